/**
 * The ReadProposal Lambda on mocked S3, DynamoDB and SES: every file format and encoding
 * an officer sends, rejected rows and files, claims and their release, duplicates and
 * re-uploads, reports and the summary email. Over 400 lines on purpose: one handler's
 * behaviours over one set of mocked stores and fixtures, read top to bottom.
 */
import { Readable } from 'node:stream';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Personal } from '#domain/case';
import { PROPOSAL_COLUMNS, type ProposalColumn } from '#intake/proposal';
import { hashId, opaqueId, unseal, useSecretForTests } from '#lib/secrets';
import { handler } from '../../functions/read-proposal.ts';
import { transactThrough } from '../helpers/case-writes.ts';
import { TEST_SECRET } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';

const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESv2Client);
setTestEnv();
useSecretForTests(TEST_SECRET);

const BUCKET = 'prokus-test-bucket';
const UPLOADER = 'operator@dinsos-majalengka.example';

// ---- a small S3 and a small DynamoDB with the semantics intake relies on ----

interface StoredObject {
  body: Buffer;
  etag: string;
  metadata: Record<string, string>;
  /** What S3 says the size is (the body's length unless a test says otherwise). */
  contentLength?: number;
}
let objects: Map<string, StoredObject>;
let written: Map<string, string>;
let table: Map<string, Record<string, unknown>>;

const itemKey = (k: Record<string, unknown>) => `${k.pk}|${k.sk}`;
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** PutItem with the two conditions the store writes: absent, or still held as read. */
async function putItem(input: PutCommandInput) {
  const item = input.Item ?? {};
  const id = itemKey(item);
  const v = input.ExpressionAttributeValues ?? {};
  const held = table.get(id);
  if (input.ConditionExpression === 'attribute_not_exists(pk)' && held) throw conditionFailed();
  if (
    input.ConditionExpression?.startsWith('caseId = :caseId') &&
    (held?.caseId !== v[':caseId'] || held?.uploadId !== v[':uploadId'] || held?.claimedAt !== v[':claimedAt'])
  ) {
    throw conditionFailed();
  }
  table.set(id, structuredClone(item));
  return {};
}

beforeEach(() => {
  s3.reset();
  ddb.reset();
  ses.reset();
  objects = new Map();
  written = new Map();
  table = new Map();
  s3.on(GetObjectCommand).callsFake(async (input) => {
    const o = objects.get(input.Key);
    if (!o) throw new NoSuchKey({ message: 'no such key', $metadata: {} });
    if (input.IfMatch && input.IfMatch !== `"${o.etag}"`) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
      });
    }
    return {
      Body: sdkStreamMixin(Readable.from([o.body])),
      ETag: `"${o.etag}"`,
      Metadata: o.metadata,
      ContentLength: o.contentLength ?? o.body.length,
    };
  });
  s3.on(PutObjectCommand).callsFake(async (input) => {
    written.set(input.Key, String(input.Body));
    return {};
  });
  ddb.on(PutCommand).callsFake(putItem);
  // A new case is put with its district's funnel counters, in one transaction.
  transactThrough(ddb, ({ Put }) => Put && putItem(Put));
  ddb.on(QueryCommand).callsFake(async (input) => {
    const v = input.ExpressionAttributeValues ?? {};
    if (input.KeyConditionExpression !== 'pk = :pk AND begins_with(sk, :claim)') throw new Error('unexpected query');
    const Items = [...table.values()].filter((i) => i.pk === v[':pk'] && String(i.sk).startsWith(String(v[':claim'])));
    return { Items };
  });
  ddb.on(GetCommand).callsFake(async (input) => ({ Item: table.get(itemKey(input.Key)) }));
  ddb.on(DeleteCommand).callsFake(async (input) => {
    const item = table.get(itemKey(input.Key));
    const v = input.ExpressionAttributeValues ?? {};
    if (!item || item.caseId !== v[':caseId'] || item.uploadId !== v[':uploadId']) throw conditionFailed();
    table.delete(itemKey(input.Key));
    return {};
  });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
});

// ---- proposal files ----

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The i-th family of Kab. Majalengka (3210): born 1990-05-<i>, a woman unless told otherwise. */
function family(i: number, sex: 'L' | 'P' = 'P'): Record<ProposalColumn, string> {
  const day = i + (sex === 'P' ? 40 : 0);
  return {
    nik: `'321001${pad(day, 2)}0590${pad(i, 4)}`,
    no_kk: `'32100101019${pad(i, 5)}`,
    nama: `Warga ${i}`,
    tanggal_lahir: `${pad(i, 2)}/05/1990`,
    jenis_kelamin: sex,
    alamat: `Jl. Merdeka ${i}`,
    kecamatan: 'Majalengka',
    desa: 'Cicurug',
    no_hp: `0812-3456-${pad(i, 4)}`,
    jenis_usaha: 'kuliner',
    deskripsi_usaha: 'Keripik singkong, pedas',
    lama_usaha_bulan: '8',
    omzet_bulanan: 'Rp 1.500.000',
    pendamping: '',
  };
}
const nikOf = (f: Record<ProposalColumn, string>) => f.nik.replace("'", '');

function csv(rows: Record<ProposalColumn, string>[], separator = ',', header: string[] = PROPOSAL_COLUMNS.map((c) => c.name)) {
  const cell = (v: string) => (/[",;\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const names = header.map((h) => h as ProposalColumn);
  return [header.map(cell).join(separator), ...rows.map((r) => names.map((n) => cell(r[n] ?? '')).join(separator))].join('\r\n');
}

function put(
  key: string,
  body: string | Buffer,
  metadata: Record<string, string> = { uploader: UPLOADER, 'program-year': '2020' },
  etag = 'etag-1',
) {
  objects.set(key, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), etag, metadata });
}

const read = (key: string) => invoke(handler, { bucket: BUCKET, key });

function reportOf(key: string) {
  const json = written.get(`${key}.report.json`);
  if (!json) throw new Error(`no report for ${key}`);
  return JSON.parse(json) as {
    file: string;
    district: string;
    programYear: number;
    uploadId: string;
    error?: { code: string; message: { id: string; en: string } };
    rows: { row: number; status: string; errors: { code: string; field: string; message: { id: string; en: string } }[] }[];
    summary: { accepted: number; warning: number; rejected: number };
    fileWarnings: { code: string; field: string }[];
  };
}

const reportCsvOf = (key: string, delimiter = ',') =>
  parse(written.get(`${key}.report.csv`) ?? '', { bom: true, delimiter, relax_column_count: true }) as string[][];

const cases = () => [...table.values()].filter((i) => String(i.pk).startsWith('CASE#'));
const codesByRow = (key: string) => Object.fromEntries(reportOf(key).rows.map((r) => [r.row, r.errors.map((e) => e.code)]));

async function mailSent(n = 0) {
  const raw = ses.commandCalls(SendEmailCommand)[n]?.args[0].input.Content?.Raw?.Data;
  if (!raw) throw new Error('no email sent');
  return simpleParser(Buffer.from(raw));
}

describe('ReadProposal: a good file', () => {
  const key = 'proposals/3210/usulan-maret.csv';

  it('registers every family at verification, lists their journeys, writes the report and emails the uploader', async () => {
    const rows = [family(1), family(2, 'L'), { ...family(3), jenis_kelamin: 'L' }];
    put(key, csv(rows));
    const uploadId = opaqueId('upload', BUCKET, key, 'etag-1');

    const result = await read(key);

    expect(result).toEqual({
      uploadId,
      accepted: 3,
      rejected: 0,
      journeys: { bucket: BUCKET, key: `intake/${uploadId}/journeys.json` },
    });

    const created = cases();
    expect(created).toHaveLength(3);
    const third = created.find((c) => c.nikHash === hashId('nik', nikOf(rows[2]!)));
    expect(third).toMatchObject({
      district: '3210',
      programYear: 2020,
      stage: 'verification',
      kkHash: hashId('kk', rows[2]!.no_kk.replace("'", '')),
      nikMasked: '3210********0003',
      business: { type: 'kuliner', description: 'Keripik singkong, pedas', months: 8, monthlyRevenue: 1_500_000 },
      proposal: { uploadId, key, row: 4 },
      intakeWarnings: ['SEX_DIFFERS_FROM_NIK'],
      journeyRuns: 0,
      milestones: {},
      gsi1pk: 'DISTRICT#3210#2020',
      gsi1sk: `verification#${third?.caseId}`,
    });
    expect(Personal.parse(unseal(String(third?.personal)))).toEqual({
      nik: nikOf(rows[2]!),
      kk: rows[2]!.no_kk.replace("'", ''),
      nama: 'Warga 3',
      tanggalLahir: '1990-05-03',
      jenisKelamin: 'L',
      alamat: 'Jl. Merdeka 3',
      kecamatan: 'Majalengka',
      desa: 'Cicurug',
      noHp: '+6281234560003',
    });

    const journeys = JSON.parse(written.get(`intake/${uploadId}/journeys.json`) ?? 'null');
    expect(journeys).toEqual(
      rows.map((r) => {
        const caseId = `3210-2020-${hashId('nik', nikOf(r)).slice(0, 20)}`;
        return { caseId, executionName: caseId };
      }),
    );

    expect(reportOf(key)).toMatchObject({
      file: key,
      district: '3210',
      programYear: 2020,
      uploadId,
      summary: { accepted: 2, warning: 1, rejected: 0 },
      rows: [
        { row: 2, status: 'accepted', errors: [] },
        { row: 3, status: 'accepted', errors: [] },
        { row: 4, status: 'warning', errors: [expect.objectContaining({ code: 'SEX_DIFFERS_FROM_NIK' })] },
      ],
    });
    expect(reportCsvOf(key)[1]).toEqual([
      '4',
      'warning',
      'jenis_kelamin',
      'SEX_DIFFERS_FROM_NIK',
      expect.any(String),
      expect.any(String),
    ]);

    const mail = await mailSent();
    expect(mail.to).toMatchObject({ text: UPLOADER });
    expect(mail.subject).toContain('3 diterima/accepted, 0 ditolak/rejected');
    expect(mail.text).toContain('Kab. Majalengka (3210)');
    expect(mail.headers.get('x-prokus-kind')).toBe('intake-report');
    expect(mail.attachments.map((a) => a.filename)).toEqual(['usulan-maret.csv.report.csv']);
  });

  it('puts no personal data in its output, the journeys list, the report or the email', async () => {
    const rows = [family(1), { ...family(2), nik: '32100145059' }];
    put(key, csv(rows));
    const result = await read(key);
    const mail = await mailSent();
    const outside = [
      JSON.stringify(result),
      ...[...written.values()],
      mail.text ?? '',
      mail.subject ?? '',
      ...mail.attachments.map((a) => a.content.toString()),
      ...cases().map((c) => JSON.stringify({ ...c, personal: undefined })),
    ].join('\n');
    for (const r of rows) {
      for (const value of [nikOf(r), r.no_kk.replace("'", ''), r.nama, r.alamat, '081234560001', '+6281234560001']) {
        expect(outside).not.toContain(value);
      }
    }
  });

  it('keeps the facilitator named in the optional pendamping column, sealed with the personal data', async () => {
    put(key, csv([{ ...family(1), pendamping: 'Ujang, TKSK Majalengka' }]));
    await read(key);
    expect(Personal.parse(unseal(String(cases()[0]?.personal))).pendamping).toBe('Ujang, TKSK Majalengka');
  });

  it('reads semicolon-separated files with a BOM, as Indonesian Excel saves them, and answers in kind', async () => {
    put(
      key,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv([family(1), { ...family(2), no_hp: '021 555' }], ';'))]),
    );
    await expect(read(key)).resolves.toMatchObject({ accepted: 1, rejected: 1 });
    const lines = written.get(`${key}.report.csv`)?.split('\r\n') ?? [];
    expect(lines[0]).toBe('\uFEFFrow;status;field;code;pesan;message');
    expect(lines[1]?.startsWith('3;rejected;no_hp;PHONE_INVALID;')).toBe(true);
  });

  it('uses the latest configured program year when the upload does not say', async () => {
    put(key, csv([family(1)]), { uploader: UPLOADER });
    await read(key);
    expect(cases()[0]).toMatchObject({ programYear: 2024, caseId: expect.stringMatching(/^3210-2024-/) });
  });

  it('sends no email when the upload names no uploader, and still writes the report', async () => {
    put(key, csv([family(1)]), { 'program-year': '2020' });
    await expect(read(key)).resolves.toMatchObject({ accepted: 1 });
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
    expect(written.has(`${key}.report.csv`)).toBe(true);
  });

  it('warns about columns that are not in the template, and ignores them', async () => {
    const header = [...PROPOSAL_COLUMNS.map((c) => c.name), 'Catatan RT'];
    put(key, csv([{ ...family(1), ['Catatan RT' as ProposalColumn]: 'x' }], ',', header));
    await expect(read(key)).resolves.toMatchObject({ accepted: 1 });
    expect(reportOf(key).fileWarnings).toEqual([expect.objectContaining({ code: 'HEADER_UNKNOWN_COLUMN', field: 'Catatan RT' })]);
  });
});

describe('ReadProposal: row checks', () => {
  const key = 'proposals/3210/usulan-salah.csv';

  it('rejects each broken row with its code, registers only the good ones', async () => {
    const broken: [Partial<Record<ProposalColumn, string>>, string][] = [
      [{ nik: '3.21001E+15' }, 'NIK_SCIENTIFIC_NOTATION'],
      [{ nik: '32100145059' }, 'NIK_NOT_16_DIGITS'],
      [{ nik: '3217014505900003' }, 'NIK_DISTRICT_MISMATCH'],
      [{ nik: '3210017505900004' }, 'NIK_BIRTH_DATE_INVALID'],
      [{ nik: '3210014505900000' }, 'NIK_SERIAL_ZERO'],
      [{ no_kk: '3,21001E+15' }, 'KK_SCIENTIFIC_NOTATION'],
      [{ no_kk: '3210' }, 'KK_NOT_16_DIGITS'],
      [{ tanggal_lahir: '1990/05/08' }, 'BIRTH_DATE_INVALID'],
      [{ jenis_kelamin: 'W' }, 'SEX_INVALID'],
      [{ no_hp: '12345' }, 'PHONE_INVALID'],
      [{ lama_usaha_bulan: 'dua' }, 'BUSINESS_MONTHS_INVALID'],
      [{ omzet_bulanan: '1,5 juta' }, 'REVENUE_INVALID'],
      [{ nama: '' }, 'FIELD_REQUIRED'],
      [{ alamat: ' ' }, 'FIELD_REQUIRED'],
      [{ kecamatan: '' }, 'FIELD_REQUIRED'],
      [{ desa: '' }, 'FIELD_REQUIRED'],
      [{ jenis_usaha: '' }, 'FIELD_REQUIRED'],
      [{ deskripsi_usaha: '' }, 'FIELD_REQUIRED'],
    ];
    const rows = [family(30), ...broken.map(([change], i) => ({ ...family(i + 1), ...change }))];
    put(key, csv(rows));

    await expect(read(key)).resolves.toMatchObject({ accepted: 1, rejected: broken.length });

    const byRow = codesByRow(key);
    expect(byRow[2]).toEqual([]);
    expect(broken.map((_, i) => byRow[i + 3])).toEqual(broken.map(([, code]) => [code]));
    expect(cases()).toHaveLength(1);
    expect(JSON.parse(written.get(`intake/${reportOf(key).uploadId}/journeys.json`) ?? '[]')).toHaveLength(1);
  });

  it('accepts with a warning a birth date that disagrees with the NIK, and passes the warning to the case', async () => {
    put(key, csv([{ ...family(1), tanggal_lahir: '1990-05-02' }]));
    await expect(read(key)).resolves.toMatchObject({ accepted: 1, rejected: 0 });
    expect(reportOf(key).rows[0]).toMatchObject({ status: 'warning' });
    expect(cases()[0]).toMatchObject({ intakeWarnings: ['BIRTH_DATE_DIFFERS_FROM_NIK'] });
  });

  it('rejects the later of two rows with the same NIK or KK, naming the earlier row', async () => {
    const rows = [family(1), family(2), { ...family(1), no_kk: family(3).no_kk }, { ...family(4), no_kk: family(2).no_kk }];
    put(key, csv(rows));
    await expect(read(key)).resolves.toMatchObject({ accepted: 2, rejected: 2 });
    const report = reportOf(key);
    expect(report.rows[2]?.errors).toEqual([expect.objectContaining({ code: 'DUPLICATE_IN_FILE', field: 'nik' })]);
    expect(report.rows[2]?.errors[0]?.message.en).toContain('row 2');
    expect(report.rows[3]?.errors).toEqual([expect.objectContaining({ code: 'DUPLICATE_IN_FILE', field: 'no_kk' })]);
    expect(report.rows[3]?.errors[0]?.message.id).toContain('baris 3');
    expect(cases()).toHaveLength(2);
  });
});

describe('ReadProposal: one family, one proposal', () => {
  const first = 'proposals/3210/usulan-maret.csv';

  it('rejects a family proposed in an earlier file for the same year as ALREADY_PROPOSED, naming when and by whom', async () => {
    put(first, csv([family(1), family(2)]));
    await read(first);
    const claim = table.get(`NIK#${hashId('nik', nikOf(family(1)))}|CLAIM#2020`);
    const date = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta' }).format(new Date(String(claim?.proposedAt)));

    const second = 'proposals/3210/usulan-april.csv';
    put(second, csv([family(3), family(1)]), undefined, 'etag-2');
    await expect(read(second)).resolves.toMatchObject({ accepted: 1, rejected: 1 });

    const rejected = reportOf(second).rows[1];
    expect(rejected).toMatchObject({
      row: 3,
      status: 'rejected',
      errors: [expect.objectContaining({ code: 'ALREADY_PROPOSED', field: 'nik' })],
    });
    expect(rejected?.errors[0]?.message.en).toBe(
      `This NIK was already proposed for 2020 by Kab. Majalengka (3210) on ${date}. A family is proposed only once in a program year.`,
    );
    expect(cases()).toHaveLength(3);
  });

  describe('an intake that fails half-way', () => {
    const corrected = 'proposals/3210/usulan-perbaikan.csv';
    const claimOf = (f: Record<ProposalColumn, string>, kind = 'NIK') =>
      table.get(
        `${kind}#${hashId(kind === 'NIK' ? 'nik' : 'kk', kind === 'NIK' ? nikOf(f) : f.no_kk.replace("'", ''))}|CLAIM#2020`,
      );
    /** The case write of this family fails with `error`; everything else works. */
    const failCaseOf = (f: Record<ProposalColumn, string>, error: () => Error) => {
      const nikHash = hashId('nik', nikOf(f));
      const put = async (input: PutCommandInput) => {
        if (String(input.Item?.pk).startsWith('CASE#') && input.Item?.nikHash === nikHash) throw error();
        return putItem(input);
      };
      ddb.on(PutCommand).callsFake(put);
      // The case's Put goes with its funnel counters: the transaction fails with the same error.
      transactThrough(ddb, ({ Put }) => Put && put(Put));
    };
    afterEach(() => vi.useRealTimers());

    it('reports a row the table refuses (over the item size) as not saved, keeps the rest, and frees its claims', async () => {
      failCaseOf(family(2), () =>
        Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' }),
      );
      put(first, csv([family(1), family(2), family(3)]));
      const result = await read(first);
      expect(result).toMatchObject({ accepted: 2, rejected: 1 });
      expect(reportOf(first).rows[1]).toMatchObject({ row: 3, status: 'rejected', errors: [{ code: 'ROW_NOT_SAVED' }] });
      expect(claimOf(family(2))).toBeUndefined();
      expect(claimOf(family(2), 'KK')).toBeUndefined();
      expect(JSON.parse(written.get(result.journeys.key) ?? '[]')).toHaveLength(2);
    });

    it('leaves claims that a later upload takes over once the failed intake cannot be writing their case any more', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2020-03-02T01:00:00Z'));
      failCaseOf(family(2), () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
      put(first, csv([family(1), family(2)]));
      await expect(read(first)).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(claimOf(family(2))).toBeDefined(); // the failed run's claim, without its case

      ddb.on(PutCommand).callsFake(putItem);
      transactThrough(ddb, ({ Put }) => Put && putItem(Put));
      // Minutes later the failed intake may still be retrying: the family is being proposed.
      vi.setSystemTime(new Date('2020-03-02T01:05:00Z'));
      put(corrected, csv([family(2)]), undefined, 'etag-2');
      await expect(read(corrected)).resolves.toMatchObject({ accepted: 0, rejected: 1 });
      expect(reportOf(corrected).rows[0]?.errors[0]).toMatchObject({ code: 'ALREADY_PROPOSED' });

      // Past any run of the failed intake: its claim counts for nothing, and the family is proposed.
      vi.setSystemTime(new Date('2020-03-02T01:25:00Z'));
      put(corrected, csv([family(2)]), undefined, 'etag-3');
      await expect(read(corrected)).resolves.toMatchObject({ accepted: 1, rejected: 0 });
      expect(claimOf(family(2))).toMatchObject({ uploadId: reportOf(corrected).uploadId });
      expect(cases().filter((c) => c.nikHash === hashId('nik', nikOf(family(2))))).toHaveLength(1);
    });
  });

  describe('in a later program year', () => {
    const later = 'proposals/3210/usulan-2024.csv';
    const caseOf = (f: Record<ProposalColumn, string>) => {
      const claim = table.get(`NIK#${hashId('nik', nikOf(f))}|CLAIM#2020`);
      const c = table.get(`CASE#${String(claim?.caseId)}|CASE`);
      if (!c) throw new Error('no case');
      return c;
    };

    it('proposes again a family whose earlier proposal ended without a grant', async () => {
      put(first, csv([family(1)]));
      await read(first);
      Object.assign(caseOf(family(1)), { stage: 'closed', outcome: 'rejected' });
      put(later, csv([family(1)]), { uploader: UPLOADER, 'program-year': '2024' }, 'etag-2');
      await expect(read(later)).resolves.toMatchObject({ accepted: 1, rejected: 0 });
      expect(cases().map((c) => c.programYear)).toEqual([2020, 2024]);
      expect(table.has(`NIK#${hashId('nik', nikOf(family(1)))}|CLAIM#2024`)).toBe(true);
    });

    it('refuses a family that received a grant, saying in which year', async () => {
      put(first, csv([family(1)]));
      await read(first);
      Object.assign(caseOf(family(1)), { stage: 'closed', outcome: 'graduated', disbursement: { amountRupiah: 1 } });
      put(later, csv([family(1)]), { uploader: UPLOADER, 'program-year': '2024' }, 'etag-2');
      await expect(read(later)).resolves.toMatchObject({ accepted: 0, rejected: 1 });
      const [error] = reportOf(later).rows[0]?.errors ?? [];
      expect(error).toMatchObject({ code: 'ALREADY_GRANTED', field: 'nik' });
      expect(error?.message.en).toContain('already received a grant in 2020');
      expect(cases()).toHaveLength(1);
    });

    it('refuses a family whose earlier proposal has not ended yet', async () => {
      put(first, csv([family(1)]));
      await read(first);
      put(later, csv([family(1)]), { uploader: UPLOADER, 'program-year': '2024' }, 'etag-2');
      await expect(read(later)).resolves.toMatchObject({ accepted: 0, rejected: 1 });
      expect(reportOf(later).rows[0]?.errors[0]?.message.en).toContain('already proposed for 2020');
      expect(reportOf(later).rows[0]?.errors[0]?.message.en).toContain('has not ended yet');
    });
  });

  it('rejects a family whose card was proposed with another NIK, and frees the NIK it had claimed', async () => {
    put(first, csv([family(1)]));
    await read(first);
    const second = 'proposals/3210/usulan-april.csv';
    const spouse = { ...family(5, 'L'), no_kk: family(1).no_kk };
    put(second, csv([spouse]), undefined, 'etag-2');

    await expect(read(second)).resolves.toMatchObject({ accepted: 0, rejected: 1 });
    expect(reportOf(second).rows[0]?.errors).toEqual([expect.objectContaining({ code: 'ALREADY_PROPOSED', field: 'no_kk' })]);
    expect(table.has(`NIK#${hashId('nik', nikOf(spouse))}|CLAIM#2020`)).toBe(false);
    expect(cases()).toHaveLength(1);
  });

  it('reads the same upload twice (an S3 event delivered twice) with the same outcome and nothing doubled', async () => {
    put(first, csv([family(1), family(2), { ...family(3), nik: 'x' }]));
    const once = await read(first);
    const journeysOnce = written.get(once.journeys.key);
    const tableOnce = structuredClone([...table.entries()]);

    const twice = await read(first);

    expect(twice).toEqual(once);
    expect(written.get(twice.journeys.key)).toBe(journeysOnce);
    expect(reportOf(first).summary).toEqual({ accepted: 2, warning: 0, rejected: 1 });
    expect(codesByRow(first)).toEqual({ 2: [], 3: [], 4: ['NIK_NOT_16_DIGITS'] });
    expect([...table.entries()]).toEqual(tableOnce);
  });

  it('treats the same file uploaded again under a new version as a new upload: its families are already proposed', async () => {
    put(first, csv([family(1)]));
    await read(first);
    put(first, csv([family(1)]), undefined, 'etag-2');
    await expect(read(first)).resolves.toMatchObject({ accepted: 0, rejected: 1 });
    expect(codesByRow(first)).toEqual({ 2: ['ALREADY_PROPOSED'] });
  });
});

describe('ReadProposal: an XLSX upload', () => {
  const key = 'proposals/3210/usulan-april.xlsx';
  const names = PROPOSAL_COLUMNS.map((c) => c.name);

  /** The workbook an officer fills from the template: instructions first, a title, typed cells. */
  async function workbook(rows: Record<ProposalColumn, ExcelJS.CellValue>[]) {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Petunjuk').addRow(['Isi lembar usulan. Kolom NIK dan No. KK berformat Teks.']);
    const ws = wb.addWorksheet('Usulan');
    ws.addRow(['USULAN PROKUS KAB. MAJALENGKA']);
    ws.addRow([]);
    ws.addRow(names);
    for (const r of rows) ws.addRow(names.map((n) => r[n])).getCell(4).numFmt = 'dd/mm/yyyy';
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  /** Family i as Excel holds it: NIK and KK typed as text, birth date a date cell, numbers as numbers. */
  const typed = (i: number): Record<ProposalColumn, ExcelJS.CellValue> => {
    const f = family(i);
    return {
      ...f,
      nik: nikOf(f),
      no_kk: f.no_kk.replace("'", ''),
      tanggal_lahir: 32_993 + i, // Excel's serial of 1990-05-<i>
      lama_usaha_bulan: 8,
      omzet_bulanan: 1_500_000,
    };
  };

  it('registers the families of the usulan sheet, numbering rows as the sheet does, and refuses numeric NIKs', async () => {
    put(
      key,
      await workbook([
        typed(1),
        { ...typed(2), nik: Number(nikOf(family(2))) },
        typed(3),
        { ...typed(1), no_kk: typed(4).no_kk },
      ]),
    );
    const uploadId = opaqueId('upload', BUCKET, key, 'etag-1');

    await expect(read(key)).resolves.toMatchObject({ uploadId, accepted: 2, rejected: 2 });

    expect(reportOf(key).rows.map((r) => [r.row, r.status, ...r.errors.map((e) => e.code)])).toEqual([
      [4, 'accepted'],
      [5, 'rejected', 'NIK_NUMERIC_CELL'],
      [6, 'accepted'],
      [7, 'rejected', 'DUPLICATE_IN_FILE'],
    ]);
    const created = cases();
    expect(created.map((c) => (c.proposal as { row: number }).row).sort()).toEqual([4, 6]);
    const first = created.find((c) => c.nikHash === hashId('nik', nikOf(family(1))));
    expect(first).toMatchObject({ business: { months: 8, monthlyRevenue: 1_500_000 }, intakeWarnings: [] });
    expect(Personal.parse(unseal(String(first?.personal)))).toMatchObject({ tanggalLahir: '1990-05-01', noHp: '+6281234560001' });
    expect(reportCsvOf(key)[1]).toEqual(['5', 'rejected', 'nik', 'NIK_NUMERIC_CELL', expect.any(String), expect.any(String)]);
    expect(reportOf(key)).toMatchObject({ format: 'xlsx', sheet: 'Usulan' });
    const mail = await mailSent();
    expect(mail.subject).toContain('usulan-april.xlsx: 2 diterima/accepted, 2 ditolak/rejected');
  });

  it('refuses a file S3 says is over the size limit without reading it', async () => {
    put(key, await workbook([typed(1)]));
    const stored = objects.get(key);
    if (stored) stored.contentLength = 101 * 1024 * 1024;
    await expect(read(key)).rejects.toMatchObject({ name: 'ProposalFileError', code: 'FILE_TOO_LARGE' });
    expect(table.size).toBe(0);
  });

  it('reads Excel "Unicode text" and Windows-1252 CSV files too', async () => {
    const text = csv([family(1)], '\t');
    put('proposals/3210/unicode.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    await expect(read('proposals/3210/unicode.txt')).resolves.toMatchObject({ accepted: 1, rejected: 0 });
    put('proposals/3210/ansi.csv', iconv.encode(csv([{ ...family(2), nama: 'Sutéjo' }], ';'), 'win1252'));
    await expect(read('proposals/3210/ansi.csv')).resolves.toMatchObject({ accepted: 1, rejected: 0 });
    const sutejo = cases().find((c) => c.nikHash === hashId('nik', nikOf(family(2))));
    expect(Personal.parse(unseal(String(sutejo?.personal))).nama).toBe('Sutéjo');
  });
});

describe('ReadProposal: files that cannot be read', () => {
  const header = PROPOSAL_COLUMNS.map((c) => c.name).join(',');

  it.each([
    ['an empty file', 'proposals/3210/kosong.csv', '', 'FILE_EMPTY'],
    ['a header without rows', 'proposals/3210/judul.csv', `${header}\r\n`, 'FILE_NO_ROWS'],
    ['a missing required column', 'proposals/3210/kurang.csv', csv([family(1)], ',', ['nik', 'nama']), 'HEADER_MISSING_COLUMN'],
    [
      'an Excel 97-2003 workbook',
      'proposals/3210/usulan.xls',
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]),
      'FILE_XLS_NOT_SUPPORTED',
    ],
    ['a damaged CSV', 'proposals/3210/rusak.csv', `${csv([family(1)])}\r\n"unclosed,`, 'FILE_MALFORMED'],
    ['an unknown district folder', 'proposals/9999/usulan.csv', csv([family(1)]), 'DISTRICT_UNKNOWN'],
    ['no district folder', 'proposals/usulan.csv', csv([family(1)]), 'DISTRICT_UNKNOWN'],
  ])('rejects %s with a ProposalFileError and a report, and registers nobody', async (_what, key, body, code) => {
    put(key, body);
    await expect(read(key)).rejects.toMatchObject({
      name: 'ProposalFileError',
      code,
      text: { id: expect.any(String), en: expect.any(String) },
    });
    expect(reportOf(key)).toMatchObject({ error: { code }, rows: [], summary: { accepted: 0, warning: 0, rejected: 0 } });
    expect(reportCsvOf(key)[1]).toEqual(['1', 'rejected', expect.any(String), code, expect.any(String), expect.any(String)]);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect([...written.keys()].some((k) => k.startsWith('intake/'))).toBe(false);
    const mail = await mailSent();
    expect(mail.subject).toContain('Proposal file rejected');
    expect(mail.text).toContain(code);
  });

  it('rejects a program year that is not configured', async () => {
    const key = 'proposals/3210/usulan.csv';
    put(key, csv([family(1)]), { uploader: UPLOADER, 'program-year': '2019' });
    await expect(read(key)).rejects.toMatchObject({ name: 'ProposalFileError', code: 'PROGRAM_YEAR_UNKNOWN' });
  });

  it('registers nobody when the file breaks after good rows: the whole file is checked first', async () => {
    const key = 'proposals/3210/rusak.csv';
    put(key, `${csv([family(1), family(2)])}\r\n"${'x'.repeat(10)}`);
    await expect(read(key)).rejects.toMatchObject({ code: 'FILE_MALFORMED' });
    expect(table.size).toBe(0);
  });

  it('keeps a hostile header cell from becoming a formula in the report', async () => {
    const key = 'proposals/3210/usulan.csv';
    const header = [...PROPOSAL_COLUMNS.map((c) => c.name), '=HYPERLINK("http://evil.example","klik")', '@SUM(1+1)'];
    put(key, csv([family(1)], ',', header));
    await read(key);
    const cells = reportCsvOf(key).flat();
    expect(cells).toContain('\'=HYPERLINK("http://evil.example","klik")');
    expect(cells).toContain("'@SUM(1+1)");
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('stops when the file is replaced between its two reads: the new version has its own intake', async () => {
    const key = 'proposals/3210/usulan.csv';
    put(key, csv([family(1)]));
    let reads = 0;
    s3.on(GetObjectCommand).callsFake(async (input) => {
      reads += 1;
      if (input.IfMatch) throw Object.assign(new Error('precondition'), { name: 'PreconditionFailed' });
      const o = objects.get(key)!;
      return {
        Body: sdkStreamMixin(Readable.from([o.body])),
        ETag: `"${o.etag}"`,
        Metadata: o.metadata,
        ContentLength: o.contentLength ?? o.body.length,
      };
    });
    await expect(read(key)).rejects.toMatchObject({ name: 'ProposalFileError', code: 'FILE_CHANGED' });
    expect(reads).toBe(2);
    expect(table.size).toBe(0);
  });
});

describe('ReadProposal: its own reports', () => {
  it.each(['proposals/3210/usulan.csv.report.csv', 'proposals/3210/usulan.csv.report.json', 'proposals/3210/'])(
    'ignores %s: starts nothing and reads nothing',
    async (key) => {
      const result = await read(key);
      expect(result).toMatchObject({ accepted: 0, rejected: 0 });
      expect(JSON.parse(written.get(result.journeys.key) ?? 'null')).toEqual([]);
      expect(result.journeys.key.startsWith('proposals/')).toBe(false);
      expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
      expect(ddb).not.toHaveReceivedAnyCommand();
      expect(ses).not.toHaveReceivedAnyCommand();
    },
  );
});

describe('ReadProposal: big files', () => {
  it('registers 2,000 families with at most 16 writes in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const slowPut = async (input: PutCommandInput) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      const item = input.Item ?? {};
      const id = itemKey(item);
      inFlight -= 1;
      if (input.ConditionExpression === 'attribute_not_exists(pk)' && table.has(id)) throw conditionFailed();
      table.set(id, item);
      return {};
    };
    ddb.on(PutCommand).callsFake(slowPut);
    // A case's Put is in flight inside its transaction with the funnel counters.
    transactThrough(ddb, ({ Put }) => Put && slowPut(Put));
    const rows = Array.from({ length: 2000 }, (_, i) => {
      const f = family((i % 28) + 1, 'L');
      // Vary the serial and the card so every row is a different family.
      return { ...f, nik: `${f.nik.slice(0, 13)}${pad(i + 1, 4)}`, no_kk: `'3210010102${pad(i + 1, 6)}` };
    });
    const key = 'proposals/3210/besar.csv';
    put(key, csv(rows));
    await expect(read(key)).resolves.toMatchObject({ accepted: 2000, rejected: 0 });
    expect(cases()).toHaveLength(2000);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(16);
  });
});
