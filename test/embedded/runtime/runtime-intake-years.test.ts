/**
 * A family across program years, end to end on the embedded runtime: proposed for 2020,
 * one family's grant rejected by the approver and the other's approved and disbursed;
 * both proposed again for 2024. The rejected family starts a 2024 journey; the granted
 * one is refused, and the report says it already received a grant in 2020.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoAccounts } from '../../../cli/demo-accounts.ts';
import { Browsers } from '../../../cli/people.ts';
import { proposalCsv, registryCsv, synthesizeFamilies } from '../../../cli/synthetic.ts';
import { localS3Client } from '../../../embedded/local/s3.ts';
import { listAllExecutions, type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';
import { approvalMails, decideEveryLevel } from '../../helpers/approval-levels.ts';

let dir: string;
let rt: Runtime;
let s3: S3Client;

const [granted, rejected] = [...synthesizeFamilies(2, { districts: ['3210'], ineligibleShare: 0, seed: 2024 })];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-years-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  // Everyone the program sends requests to has an account and signs in with a one-time code.
  await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
  browsers = new Browsers({ pagesUrl: rt.endpoints.pages, outboxDir: rt.outboxDir });
  s3 = localS3Client(rt.endpoints.s3, rt.credentials);
  // Both families are PKH graduates: verification finds them eligible.
  const { loadKeys } = await import('#lib/secrets');
  const { importRegistry } = await import('#intake/registry-import');
  await loadKeys();
  await importRegistry(registryCsv([granted!, rejected!]));
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function upload(name: string, programYear: number): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, proposalCsv([granted!, rejected!], 0));
  const { key } = await rt.upload(file, { district: '3210', programYear, uploader: 'operator@dinsos.example', name });
  await rt.idle({ timeoutMs: 120_000 });
  return key;
}

interface Report {
  rows: { row: number; status: string; errors: { code: string; message: { id: string; en: string } }[] }[];
}
async function reportOf(key: string): Promise<Report> {
  const out = await s3.send(new GetObjectCommand({ Bucket: rt.bucket, Key: `${key}.report.json` }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as Report;
}

let browsers: Browsers;

describe('a family proposed again in a later program year', () => {
  it('2020: one family granted, the other rejected by the approver', async () => {
    await upload('usulan-2020.csv', 2020);
    const firstLevel = (await approvalMails(rt.outboxDir)).filter((m) => m.level === 1);
    expect(firstLevel).toHaveLength(2);
    for (const mail of firstLevel) {
      // The district head recognises the family on the page; the last level (the directorate) decides.
      const page = (await browsers.open(mail.to, mail.link)).text;
      const body = page.includes(granted!.nama)
        ? 'decision=approved'
        : 'decision=rejected&reasonCode=USAHA_TIDAK_ADA&reason=Usaha+tidak+ditemukan';
      const { posted } = await decideEveryLevel(browsers, rt, mail.caseId, body);
      expect(posted.status).toBeLessThan(400);
    }
    await rt.idle({ timeoutMs: 60_000 });
    const { getCase } = await import('#store/cases');
    const stages = await Promise.all(listAllExecutions(rt.engine, rt.journeyArn).map((j) => getCase(j.name)));
    expect(stages.map((c) => [c.stage, c.outcome, c.disbursement !== undefined]).sort()).toEqual([
      ['closed', 'rejected', false],
      ['mentoring', undefined, true],
    ]);
  }, 180_000);

  it('2024: the rejected family starts a new journey, the granted one is refused with the year of its grant', async () => {
    const key = await upload('usulan-2024.csv', 2024);
    const report = await reportOf(key);
    expect(report.rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'rejected'],
      [3, 'accepted'],
    ]);
    expect(report.rows[0]?.errors[0]?.code).toBe('ALREADY_GRANTED');
    expect(report.rows[0]?.errors[0]?.message.en).toContain('already received a grant in 2020');
    expect(report.rows[0]?.errors[0]?.message.id).toContain('sudah menerima bantuan pada tahun program 2020');

    const journeys = listAllExecutions(rt.engine, rt.journeyArn).map((j) => j.name);
    expect(journeys).toHaveLength(3);
    const year2024 = journeys.filter((name) => name.includes('-2024-'));
    expect(year2024).toHaveLength(1);
    const { getCase } = await import('#store/cases');
    expect((await getCase(year2024[0]!)).stage).toBe('grant-approval');
  }, 180_000);
});
