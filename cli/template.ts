/**
 * `prokus template`: the proposal template district officers download and fill in
 * (built in functions/intake/template-file.ts, which the upload page serves too).
 *
 * XLSX by default, because a workbook can carry what protects the data: the NIK, KK and
 * phone columns are formatted as Text (Excel keeps only 15 digits of a number, and drops
 * the leading 0 of a phone number), the birth date column as a date, `jenis_kelamin`
 * offers L/P, the header row is frozen, and a second sheet `petunjuk` explains every
 * column in Indonesian and English.
 *
 * CSV on request: `;`-separated, UTF-8 with a BOM, CRLF. Excel set to Indonesian (and
 * most of Europe) uses the comma as the decimal separator and so expects `;` between
 * fields: a `,` file opens with every row squeezed into column A. The BOM makes Excel
 * read UTF-8 instead of the Windows code page. The sheet reader detects `;`, `,` and tab.
 *
 * Both carry one example row, clearly marked. Its NIK starts with 9999, which is no
 * district's code, so an example left in by mistake is always rejected and never
 * becomes a family.
 */
import { createWriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Bilingual } from '#domain/errors';
import { type TemplateFormat, templateCsv } from '#intake/template-file';
import { templateWorkbook } from '#intake/template-workbook';

export {
  COLUMN_GUIDE,
  COMMON_MISTAKES,
  defaultTemplateFile,
  GUIDE_SHEET,
  TEMPLATE_COLUMNS,
  TEMPLATE_SHEET,
  type TemplateFormat,
  templateCsv,
} from '#intake/template-file';
export { templateWorkbook } from '#intake/template-workbook';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly code: string,
    readonly text: Bilingual,
  ) {
    super(`${code}: ${text.en}`);
  }
}

/** `--format`, else the extension of `--out`, else XLSX. */
export function templateFormat(out: string | undefined, format: string | undefined): TemplateFormat {
  const chosen = format ?? (out && extname(out).toLowerCase() === '.csv' ? 'csv' : 'xlsx');
  if (chosen === 'xlsx' || chosen === 'csv') return chosen;
  throw new TemplateError('TEMPLATE_FORMAT_UNKNOWN', {
    id: `Format templat "${chosen}" tidak dikenal; pilih xlsx atau csv.`,
    en: `Template format "${chosen}" is unknown; choose xlsx or csv.`,
  });
}

/**
 * Writes the template to `out` (a temporary name first, so a half-written template is
 * never left behind). Refuses to overwrite an existing file unless `force`: an officer's
 * filled-in proposal may carry the same name.
 */
export async function writeTemplate(out: string, format: TemplateFormat, opts: { force?: boolean } = {}): Promise<void> {
  if (!opts.force) {
    const exists = await access(out).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new TemplateError('TEMPLATE_FILE_EXISTS', {
        id: `Berkas ${out} sudah ada dan tidak ditimpa. Pilih nama lain dengan --out, atau tambahkan --force.`,
        en: `${out} already exists and was not overwritten. Choose another name with --out, or add --force.`,
      });
    }
  }
  const partial = `${out}.${process.pid}.partial`;
  try {
    if (format === 'csv') {
      await pipeline([templateCsv()], createWriteStream(partial));
    } else {
      await templateWorkbook().xlsx.writeFile(partial);
    }
    await rename(partial, out);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}
