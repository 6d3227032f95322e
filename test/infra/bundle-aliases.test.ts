/**
 * The Lambda bundles carry stand-ins for a few packages (infra/constructs/bundle/aliases.ts).
 * Everything else tests the source with the real packages; here the code is bundled with
 * the same aliases and run:
 * - an SDK client still takes the role's credentials from the environment, and without
 *   them ends as the SDK's own chain ends, passing over the stand-ins;
 * - the bundled sheet reader (yauzl and exceljs's XML readers) reads workbooks, whole,
 *   in pieces, cut short or not workbooks at all, as the source does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as source from '#intake/sheet';
import { BUNDLE_ALIASES, CREDENTIAL_PROVIDERS_NOT_IN_LAMBDA } from '../../infra/constructs/bundle/aliases.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

const CREDENTIALS_ENTRY = `
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
const client = new SecretsManagerClient({});
try {
  const c = await client.config.credentials();
  console.log(JSON.stringify({ accessKeyId: c.accessKeyId }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}
`;

let dir: string;

/** Bundles like ProkusFunction does (the aliases, ESM for Node, require() provided). */
async function bundle(name: string, stdin: { contents: string } | { entry: string }) {
  const outfile = join(dir, `${name}.mjs`);
  const result = await build({
    ...('entry' in stdin
      ? { entryPoints: [stdin.entry] }
      : { stdin: { contents: stdin.contents, resolveDir: repoRoot, loader: 'ts' as const, sourcefile: `${name}.ts` } }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    alias: BUNDLE_ALIASES,
    outfile,
    metafile: true,
    logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-bundle-'));
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('credentials in a Lambda bundle', () => {
  let credentials: { outfile: string; inputs: string[] };
  beforeAll(async () => {
    credentials = await bundle('credentials', { contents: CREDENTIALS_ENTRY });
  }, 60_000);

  async function resolveIn(env: Record<string, string>): Promise<{ accessKeyId?: string; error?: string; message?: string }> {
    // Nothing from this machine's environment: no credentials, no profile, no config file.
    const base = { PATH: process.env.PATH ?? '', HOME: dir, AWS_REGION: 'ap-southeast-3', AWS_EC2_METADATA_DISABLED: 'true' };
    const { stdout } = await run(process.execPath, [credentials.outfile], { env: { ...base, ...env } });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  }

  it('bundles the stand-ins instead of the providers that read files (and the STS and SSO clients they load)', () => {
    for (const pkg of [...CREDENTIAL_PROVIDERS_NOT_IN_LAMBDA, '@aws-sdk/nested-clients']) {
      expect(credentials.inputs.filter((f) => f.includes(`node_modules/${pkg}/`))).toEqual([]);
    }
    expect(credentials.inputs.some((f) => f.endsWith('bundle/credential-links.ts'))).toBe(true);
  });

  it('takes the credentials Lambda puts in the environment', async () => {
    const out = await resolveIn({
      AWS_ACCESS_KEY_ID: 'AKIAFROMENV',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    expect(out).toEqual({ accessKeyId: 'AKIAFROMENV' });
  });

  it('without them, passes over the stand-ins to the end of the chain, as the SDK does where no file exists', async () => {
    const settings: Record<string, string>[] = [
      {},
      { AWS_PROFILE: 'somebody' },
      { AWS_WEB_IDENTITY_TOKEN_FILE: '/nowhere', AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/x' },
    ];
    for (const env of settings) {
      const out = await resolveIn(env);
      expect(out.error).toBe('CredentialsProviderError');
      expect(out.message).toBe('Could not load credentials from any providers');
    }
  });
});

describe('the sheet reader in a Lambda bundle', () => {
  let bundled: typeof source;
  let inputs: string[];
  beforeAll(async () => {
    const out = await bundle('sheet', {
      entry: fileURLToPath(new URL('../../functions/intake/sheet/index.ts', import.meta.url)),
    });
    inputs = out.inputs;
    bundled = await import(pathToFileURL(out.outfile).href);
  }, 60_000);

  async function readWith(sheets: typeof source, bytes: () => source.SheetInput) {
    try {
      const sheet = await sheets.openSheet(bytes());
      const rows: unknown[] = [];
      for await (const r of sheet.rows) rows.push({ row: r.row, cells: r.cells, kinds: r.kinds });
      return { format: sheet.format, sheetName: sheet.sheetName, header: sheet.header, rows };
    } catch (e) {
      return { problem: (e as { problem?: unknown }).problem ?? String(e) };
    }
  }

  async function workbook(): Promise<Buffer> {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('petunjuk').addRow(['baca saya']);
    const ws = wb.addWorksheet('Usulan');
    ws.addRow(['Usulan Prokus 2024']);
    ws.addRow(['nik', 'nama', 'tanggal_lahir', 'omzet_bulanan', 'aktif']);
    for (let i = 0; i < 300; i++)
      ws.addRow([
        `3210014508950${String(i).padStart(3, '0')}`,
        `Sutéjo ${i}`,
        new Date(Date.UTC(1990, 0, 1 + i)),
        1_500_000 + i,
        i % 2 === 0,
      ]);
    ws.getCell('B5').value = { richText: [{ text: 'Nur' }, { text: 'âini' }] };
    ws.getCell('D6').value = { formula: 'D5+1', result: 1_500_002 };
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  it('carries yauzl, and none of the exceljs stream reader (unzipper, tmp) or es-abstract', () => {
    expect(inputs.some((f) => f.endsWith('node_modules/yauzl/index.js'))).toBe(true);
    for (const file of ['node_modules/unzipper/', 'node_modules/tmp/', 'node_modules/es-abstract/', 'exceljs/lib/stream/']) {
      expect(inputs.filter((f) => f.includes(file))).toEqual([]);
    }
  });

  it('reads workbooks as the source does: whole, in small pieces, cut short, or not a workbook', async () => {
    const bytes = await workbook();
    const pieces = (size: number) => () =>
      Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
    const cases: [string, () => source.SheetInput][] = [
      ['whole', () => bytes],
      ['in pieces of 1,000 bytes', pieces(1000)],
      ['in pieces of 7 bytes', pieces(7)],
      ['cut short', () => bytes.subarray(0, Math.floor(bytes.length * 0.6))],
      ['a zip without a workbook', () => Buffer.concat([Buffer.from('PK\u0003\u0004'), bytes.subarray(4, 40)])],
    ];
    for (const [what, input] of cases) {
      const expected = await readWith(source, input);
      expect(await readWith(bundled, input), what).toEqual(expected);
    }
    const whole = await readWith(bundled, () => bytes);
    expect(whole).toMatchObject({ format: 'xlsx', sheetName: 'Usulan' });
    expect(whole.rows?.at(-1)).toMatchObject({ cells: ['3210014508950299', 'Sutéjo 299', '1990-10-27', '1500299', 'FALSE'] });
    expect(await readWith(bundled, () => bytes.subarray(0, Math.floor(bytes.length * 0.6)))).toMatchObject({
      problem: { code: 'FILE_MALFORMED' },
    });
  }, 60_000);
});
