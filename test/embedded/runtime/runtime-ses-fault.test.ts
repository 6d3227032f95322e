/**
 * SES failing (issue 7): the first grant-approval email is refused by SES once, the journey
 * fails on it, and the operator restarts it as the README says (`<caseId>-r2`). The request
 * was stored before the send failed; the restarted run must still send its first email.
 * Exactly once here: the refused call wrote nothing, and the run that sent it recorded
 * `mailedAt`, so no later run sends it again (only a crash between sending and recording can
 * make a second copy). The emailed link then decides.
 *
 * And SES throttling (TooManyRequestsException, SES v2's 429) for longer than the SDK's own
 * retries: the state's Retry sends it on a later attempt, with no failed journey.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoAccounts } from '../../../cli/demo-accounts.ts';
import { Browsers } from '../../../cli/people.ts';
import { ApiError } from '../../../embedded/aws-endpoint/api-error.ts';
import { listAllExecutions, type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';
import { decideEveryLevel } from '../../helpers/approval-levels.ts';

const caseId = '3210-2020-sesfaulttest000000001';
const throttledCaseId = '3210-2020-sesfaulttest000000002';
let dir: string;
let rt: Runtime;
const refused: string[] = [];
let throttled = 0;
/** SES v2 answers a burst over the sending rate with 429 TooManyRequestsException; the SDK tries 3 times per call. */
const THROTTLED_CALLS = 3;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-ses-fault-'));
  rt = await startRuntime({
    dataDir: dir,
    port: 0,
    quiet: true,
    // SES refuses the first grant-approval message, as when sending is paused for the account.
    sesFault: (raw) => {
      const text = raw.toString('utf8');
      if (!text.includes('X-Prokus-Kind: grant-approval')) return undefined;
      if (text.includes(`X-Prokus-Case: ${throttledCaseId}`)) {
        if (throttled >= THROTTLED_CALLS) return undefined;
        throttled += 1;
        return new ApiError('TooManyRequestsException', 'Maximum sending rate exceeded.', 429);
      }
      if (refused.length > 0) return undefined;
      refused.push('grant-approval');
      return new ApiError('SendingPausedException', 'Email sending is disabled for this account.', 400);
    },
  });
  // Everyone the program sends requests to has an account and signs in with a one-time code.
  await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
});

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function outbox(kind: string, of = caseId) {
  const found: { text: string }[] = [];
  for (const f of (await readdir(rt.outboxDir)).filter((n) => n.endsWith('.eml'))) {
    const mail = await simpleParser(await readFile(join(rt.outboxDir, f)));
    if (mail.headers.get('x-prokus-kind') === kind && mail.headers.get('x-prokus-case') === of)
      found.push({ text: mail.text ?? '' });
  }
  return found;
}

async function createApprovableCase(id: string) {
  const { loadKeys, seal } = await import('#lib/secrets');
  const { createCase } = await import('#store/cases');
  await loadKeys();
  const now = new Date().toISOString();
  await createCase({
    caseId: id,
    district: '3210',
    programYear: 2020,
    stage: 'grant-approval',
    nikHash: 'e'.repeat(32),
    kkHash: 'f'.repeat(32),
    nikMasked: '3210********0043',
    personal: seal({
      nik: '3210014508950043',
      kk: '3210010101090043',
      nama: 'Ibu Uji Surel',
      tanggalLahir: '1995-08-05',
      jenisKelamin: 'P',
      alamat: 'Jl. Contoh 2',
      kecamatan: 'Majalengka',
      desa: 'Cicurug',
      noHp: '+6281200000001',
    }),
    business: { type: 'kuliner', description: 'Keripik pisang', months: 12, monthlyRevenue: 1_500_000 },
    proposal: { uploadId: 'u1', key: 'proposals/3210/usulan.csv', row: 2, proposedAt: now },
    intakeWarnings: [],
    journeyRuns: 0,
    verification: { eligible: true, reasons: [], explanation: [], ruleVersion: '2020.1', at: now },
    milestones: {},
    createdAt: now,
    updatedAt: now,
  });
}

describe('SES refusing the first approval email', () => {
  it('fails the journey, and the journey restarted as the README says sends the first email, once, with a link that decides', async () => {
    await createApprovableCase(caseId);
    await rt.engine.startExecution({ stateMachineArn: rt.journeyArn, name: caseId, input: JSON.stringify({ caseId }) });
    await rt.idle({ timeoutMs: 60_000 });

    expect(refused).toEqual(['grant-approval']);
    const { getCase } = await import('#store/cases');
    const failed = await getCase(caseId);
    expect(failed.stage).toBe('grant-approval');
    expect(failed.failure?.error).toBe('SendingPausedException');
    expect(listAllExecutions(rt.engine, rt.journeyArn).map((e) => [e.name, e.status])).toEqual([[caseId, 'FAILED']]);
    expect(await outbox('grant-approval')).toHaveLength(0);

    // README, operating: start a new journey execution for the case, named <caseId>-r<n>.
    await rt.engine.startExecution({ stateMachineArn: rt.journeyArn, name: `${caseId}-r2`, input: JSON.stringify({ caseId }) });
    await rt.idle({ timeoutMs: 60_000 });
    const approvals = await outbox('grant-approval');
    expect(approvals).toHaveLength(1);

    const link = /http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(approvals[0]!.text)?.[0];
    expect(link).toBeDefined();
    const browsers = new Browsers({ pagesUrl: rt.endpoints.pages, outboxDir: rt.outboxDir });
    const { shown, posted } = await decideEveryLevel(browsers, rt, caseId);
    expect(shown.status).toBe(200);
    expect(posted.status).toBe(200);
    await rt.idle({ timeoutMs: 60_000 });

    const approved = await getCase(caseId);
    expect(approved.grantApproval?.decision).toBe('approved');
    expect(approved.stage).toBe('mentoring');
    // One email per approval level (the district head's, then the directorate's), none twice.
    expect(await outbox('grant-approval')).toHaveLength(2);
    expect(await outbox('milestone-report')).toHaveLength(1);
  });

  it('is throttled past the SDK\u2019s retries: the state retries, the first email goes out once, no journey fails', async () => {
    await createApprovableCase(throttledCaseId);
    await rt.engine.startExecution({
      stateMachineArn: rt.journeyArn,
      name: throttledCaseId,
      input: JSON.stringify({ caseId: throttledCaseId }),
    });
    await rt.idle({ timeoutMs: 60_000 });

    expect(throttled).toBe(THROTTLED_CALLS);
    const journey = listAllExecutions(rt.engine, rt.journeyArn).find((e) => e.name === throttledCaseId)!;
    expect(journey.status).toBe('RUNNING');
    const events = rt.engine.getExecutionHistory({ executionArn: journey.executionArn, maxResults: 1000 }).events;
    const failures = events.flatMap((e) => (e.taskFailedEventDetails ? [e.taskFailedEventDetails.error] : []));
    expect(failures).toEqual(['TooManyRequestsException']);
    const { getCase } = await import('#store/cases');
    expect((await getCase(throttledCaseId)).failure).toBeUndefined();
    expect(await outbox('grant-approval', throttledCaseId)).toHaveLength(1);
  });
});
