/**
 * Issue 7.6 end to end on the embedded runtime (real dynalite, engine running the real
 * journey ASL, AWS endpoint, pages server, handlers): a district with a quota of one grant
 * and two families waiting for approval. The first approver is told the grant will be
 * disbursed and the family reaches mentoring; the second is told plainly that the quota
 * is used up, and that family's journey closes `quota-exhausted` without disbursing.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoAccounts } from '../../../cli/demo-accounts.ts';
import { Browsers } from '../../../cli/people.ts';
import { listAllExecutions, type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';
import { approvalMails, decideEveryLevel } from '../../helpers/approval-levels.ts';
import { caseAtApproval } from '../../helpers/runtime-cases.ts';

let dir: string;
let rt: Runtime;

const caseIds = ['3210-2020-quotaonefirst000000001', '3210-2020-quotaonesecond00000002'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-runtime-quota-'));
  const programs = join(dir, 'programs');
  const program = JSON.parse(await readFile(new URL('../../../programs/2020.json', import.meta.url), 'utf8'));
  program.districts['3210'].quota = 1;
  await mkdir(programs);
  await writeFile(join(programs, '2020.json'), JSON.stringify(program));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true, programsDir: programs });
  // Everyone the program sends requests to has an account and signs in with a one-time code.
  await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
});

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Both levels approve (the district head, then the directorate): the page of the last is what the approver reads. */
const approve = async (caseId: string) => {
  const browsers = new Browsers({ pagesUrl: rt.endpoints.pages, outboxDir: rt.outboxDir });
  const { posted } = await decideEveryLevel(browsers, rt, caseId);
  return { status: posted.status, html: posted.text };
};

function entered(caseId: string): string[] {
  const journey = listAllExecutions(rt.engine, rt.journeyArn).find((e) => e.name === caseId);
  const history = rt.engine.getExecutionHistory({ executionArn: journey!.executionArn, maxResults: 1000 });
  return history.events.flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
}

describe('the district quota at approval, end to end', () => {
  it('tells the second approver of a one-grant district that the quota is used up, and the journey closes it so', async () => {
    const { loadKeys } = await import('#lib/secrets');
    const { createCase, getCase } = await import('#store/cases');
    await loadKeys();
    for (const [n, caseId] of caseIds.entries()) {
      await createCase(await caseAtApproval(caseId, n + 1));
      await rt.engine.startExecution({ stateMachineArn: rt.journeyArn, name: caseId, input: JSON.stringify({ caseId }) });
    }
    await rt.idle({ timeoutMs: 60_000 });
    const firstLevel = (await approvalMails(rt.outboxDir)).filter((m) => m.level === 1);
    expect(firstLevel.map((m) => m.caseId).sort()).toEqual([...caseIds].sort());

    const first = await approve(caseIds[0]!);
    expect(first.status).toBe(200);
    expect(first.html).toContain('The grant of Rp3.500.000 will be disbursed to this family.');

    const second = await approve(caseIds[1]!);
    expect(second.status).toBe(200);
    expect(second.html).toContain('Persetujuan tercatat, tetapi kuota bantuan sudah habis.');
    expect(second.html).toContain('so this family will not receive the grant.');
    expect(second.html).not.toContain('will be disbursed');

    await rt.idle({ timeoutMs: 60_000 });
    const granted = await getCase(caseIds[0]!);
    expect(granted).toMatchObject({ stage: 'mentoring', grantApproval: { quota: 'reserved' } });
    expect(granted.disbursement?.amountRupiah).toBe(3_500_000);
    expect(entered(caseIds[0]!)).toContain('Disbursement');

    const refused = await getCase(caseIds[1]!);
    expect(refused).toMatchObject({
      stage: 'closed',
      outcome: 'quota-exhausted',
      grantApproval: { decision: 'approved', quota: 'exhausted' },
    });
    expect(refused.disbursement).toBeUndefined();
    const states = entered(caseIds[1]!);
    expect(states.slice(states.lastIndexOf('AwaitGrantApproval'))).toEqual([
      'AwaitGrantApproval',
      'QuotaExhausted',
      'Close',
      'Closed',
    ]);
    const journey = listAllExecutions(rt.engine, rt.journeyArn).find((e) => e.name === caseIds[1]);
    expect(journey?.status).toBe('SUCCEEDED');
  });
});
