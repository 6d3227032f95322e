/**
 * The XLSX the upload page serves (functions/intake/template-xlsx.ts) is the workbook
 * `prokus template` writes: every part of the zip the same, but the file's creation time.
 * When this fails, run `npx tsx cli/template-asset.ts`.
 */
import { describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { templateWorkbook } from '#intake/template-workbook';
import { TEMPLATE_XLSX_BASE64 } from '#intake/template-xlsx';

function parts(bytes: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out = new Map<string, string>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

// docProps/core.xml holds the moment the workbook was written.
const CREATED = 'docProps/core.xml';

describe('the template the upload page serves', () => {
  it('is the workbook prokus template writes (run `npx tsx cli/template-asset.ts` after changing the template)', async () => {
    const served = await parts(Buffer.from(TEMPLATE_XLSX_BASE64, 'base64'));
    const fresh = await parts(Buffer.from(await templateWorkbook().xlsx.writeBuffer()));
    expect([...served.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [name, xml] of fresh) if (name !== CREATED) expect(served.get(name), name).toBe(xml);
    expect(served.get('xl/sharedStrings.xml')).toContain('<t>nik</t>');
  });
});
