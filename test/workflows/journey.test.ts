/**
 * The real workflows/journey.asl.json, run on the embedded engine through every branch,
 * with stub functions. Assertions read the execution history by state name.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyGrantedError,
  DeadlinePassedError,
  GRANT_REJECTED,
  IneligibleError,
  MentoringIncompleteError,
  QuotaExhaustedError,
  TransientError,
} from '#domain/errors';
import { caseIdFor, expectInOrder, MILESTONES, WorkflowHarness } from './harness.ts';

let h: WorkflowHarness;
const arns: string[] = [];

beforeEach(() => {
  h = new WorkflowHarness();
  arns.length = 0;
});

afterEach(async () => {
  h.expectNoPersonalData(arns);
  await h.close();
});

async function journey(caseId = caseIdFor(1)) {
  const run = await h.runJourney(caseId);
  arns.push(run.arn);
  return { ...run, entered: h.entered(run.arn) };
}

const closedWith = () => h.payloads('Close').map((p) => p.outcome);

describe('journey', () => {
  it('takes an eligible, approved family through mentoring, grading and referral to graduation', async () => {
    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, [
      'LoadCase',
      'RouteByStage',
      'Verification',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'Disbursement',
      'PlanMentoring',
      'Mentoring',
      ...MILESTONES.flatMap(() => ['OpenMilestoneReport', 'AwaitMilestoneReport', 'MilestoneReported']),
      'Grading',
      'FinancingReferral',
      'OpenFinancingOutcome',
      'AwaitFinancingOutcome',
      'Graduated',
      'Close',
      'Closed',
    ]);
    expect(entered).not.toContain('RecordFailure');
    expect(closedWith()).toEqual(['graduated']);
    expect(h.payloads('OpenRequest').map((p) => [p.kind, p.milestoneId])).toEqual([
      ['grant-approval', undefined],
      ...MILESTONES.map((m) => ['milestone-report', m]),
      ['financing-outcome', undefined],
    ]);
  });

  it('asks the approval levels in order: the next level after an approval before the last, then Disbursement', async () => {
    h.answer({ 'grant-approval': (n) => ({ success: { nextLevel: n === 1 ? 'directorate' : null } }) });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, [
      'Verification',
      'StartGrantApproval',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'NextApprovalLevel',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'NextApprovalLevel',
      'Disbursement',
    ]);
    const approvals = (fn: 'OpenRequest' | 'AwaitRequest') =>
      h
        .payloads(fn)
        .filter((p) => p.kind === 'grant-approval')
        .map((p) => p.level);
    expect(approvals('OpenRequest')).toEqual(['district', 'directorate']);
    expect(approvals('AwaitRequest')).toEqual(['district', 'directorate']);
  });

  it('restarted at grant approval, asks the level LoadCase found waiting (not the first again)', async () => {
    h.on('LoadCase', (p) => ({
      caseId: p.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'grant-approval',
      approvalLevel: 'directorate',
    }));

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['RouteByStage', 'StartGrantApproval', 'OpenGrantApproval', 'AwaitGrantApproval', 'Disbursement']);
    expect(entered).not.toContain('Verification');
    expect(h.payloads('OpenRequest')[0]).toMatchObject({ kind: 'grant-approval', level: 'directorate' });
  });

  it('gives AwaitRequest a fresh, real task token for every wait (never the placeholder)', async () => {
    await journey();

    const tokens = h.payloads('AwaitRequest').map((p) => String(p.taskToken));
    expect(tokens).toHaveLength(1 + MILESTONES.length + 1);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{64,}$/);
    expect(h.payloads('LoadCase')[0]).toEqual({ caseId: caseIdFor(1), executionName: caseIdFor(1) });
  });

  it('closes an ineligible family as Ineligible without asking for approval', async () => {
    h.on('Verification', () => {
      throw new IneligibleError(['DECILE_NOT_ALLOWED']);
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['LoadCase', 'Verification', 'Ineligible', 'Close', 'Closed']);
    expect(entered).not.toContain('OpenGrantApproval');
    expect(closedWith()).toEqual(['ineligible']);
  });

  it('closes as Rejected when the approver rejects the grant', async () => {
    h.answer({ 'grant-approval': { failure: GRANT_REJECTED, cause: 'Usaha belum berjalan' } });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['OpenGrantApproval', 'AwaitGrantApproval', 'Rejected', 'Close', 'Closed']);
    expect(entered).not.toContain('Disbursement');
    expect(closedWith()).toEqual(['rejected']);
  });

  it('reminds the approver after the wait times out, then expires the approval at the deadline', async () => {
    h.on('OpenRequest', (p, n) => {
      if (n > 1) throw new DeadlinePassedError(String(p.kind));
      return { waitSeconds: 1 };
    }).answer({ 'grant-approval': 'ignore' });

    const { record, entered, arn } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['OpenGrantApproval', 'AwaitGrantApproval', 'OpenGrantApproval', 'ApprovalExpired', 'Close']);
    expect(closedWith()).toEqual(['approval-expired']);
    expect(h.history(arn).map((e) => e.type)).toContain('TaskTimedOut');
    // The link's token died with the wait: a late decision cannot revive the journey.
    const [token] = h.payloads('AwaitRequest').map((p) => String(p.taskToken));
    expect(() => h.engine.sendTaskSuccess({ taskToken: String(token), output: '{}' })).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
  });

  it('retries a transient error and carries on (the retry is visible in the history)', async () => {
    h.on('Disbursement', (_p, n) => {
      if (n === 1) throw new TransientError('DynamoDB throttled');
      return { amountRupiah: 3_500_000 };
    });

    const { record, entered, arn } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => s === 'Disbursement')).toHaveLength(1);
    expect(entered).not.toContain('RecordFailure');
    const disbursement = taskEventsOf(arn, 'Disbursement');
    expect(disbursement).toEqual([
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed:TransientError',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
    ]);
    expect(closedWith()).toEqual(['graduated']);
  });

  it('records a missed milestone and continues with the next one', async () => {
    h.on('OpenRequest', (p) => {
      if (p.milestoneId === MILESTONES[1]) throw new DeadlinePassedError('milestone-report');
      return { waitSeconds: 60 };
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, [
      'OpenMilestoneReport',
      'AwaitMilestoneReport',
      'MilestoneReported',
      'OpenMilestoneReport',
      'MilestoneMissed',
      'OpenMilestoneReport',
      'AwaitMilestoneReport',
      'MilestoneReported',
      'Grading',
    ]);
    expect(h.payloads('AwaitRequest').map((p) => p.milestoneId)).toEqual([undefined, MILESTONES[0], MILESTONES[2], undefined]);
    expect(closedWith()).toEqual(['graduated']);
  });

  it('closes as MentoringIncomplete when grading finds no report', async () => {
    h.on('Grading', () => {
      throw new MentoringIncompleteError();
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['Grading', 'MentoringIncomplete', 'Close', 'Closed']);
    expect(entered).not.toContain('FinancingReferral');
    expect(closedWith()).toEqual(['mentoring-incomplete']);
  });

  it('closes as QuotaExhausted when the district quota is used up', async () => {
    h.on('Disbursement', () => {
      throw new QuotaExhaustedError('3210', 2020);
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['Disbursement', 'QuotaExhausted', 'Close', 'Closed']);
    expect(entered).not.toContain('PlanMentoring');
    expect(closedWith()).toEqual(['quota-exhausted']);
  });

  it('closes as AlreadyGranted, without disbursing, when the approval found the family card already granted', async () => {
    const refused = new AlreadyGrantedError();
    h.answer({ 'grant-approval': { failure: refused.name, cause: refused.message } });
    const atApproval = await journey();
    expect(atApproval.record.status).toBe('SUCCEEDED');
    expectInOrder(atApproval.entered, ['AwaitGrantApproval', 'AlreadyGranted', 'Close', 'Closed']);
    expect(atApproval.entered).not.toContain('Disbursement');
    expect(closedWith()).toEqual(['already-granted']);
  });

  it('closes as AlreadyGranted when Disbursement finds the family card granted', async () => {
    h.on('Disbursement', () => {
      throw new AlreadyGrantedError();
    });
    const { record, entered } = await journey();
    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['Disbursement', 'AlreadyGranted', 'Close', 'Closed']);
    expect(entered).not.toContain('PlanMentoring');
    expect(closedWith()).toEqual(['already-granted']);
  });

  it('closes as QuotaExhausted, without disbursing, when the approval found the district quota used up', async () => {
    // What the approval page sends when reserveGrant found no grant left (decisions.ts).
    const refused = new QuotaExhaustedError('3210', 2020);
    h.answer({ 'grant-approval': { failure: refused.name, cause: refused.message } });

    const { record, entered, arn } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['OpenGrantApproval', 'AwaitGrantApproval', 'QuotaExhausted', 'Close', 'Closed']);
    for (const skipped of ['Disbursement', 'PlanMentoring', 'Rejected', 'RecordFailure']) expect(entered).not.toContain(skipped);
    expect(closedWith()).toEqual(['quota-exhausted']);
    expect(h.payloads('Close')).toEqual([{ caseId: caseIdFor(1), outcome: 'quota-exhausted' }]);
    const exited = h.history(arn).find((e) => e.stateExitedEventDetails?.name === 'QuotaExhausted');
    expect(JSON.parse(exited?.stateExitedEventDetails?.output ?? '{}')).toMatchObject({
      closing: { outcome: 'quota-exhausted' },
      error: { Error: 'QuotaExhaustedError', Cause: refused.message },
    });
  });

  it('records an unexpected error on the case and fails the execution with it', async () => {
    h.on('Grading', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'grade')");
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('TypeError');
    expect(JSON.parse(record.cause ?? '{}')).toMatchObject({
      errorType: 'TypeError',
      errorMessage: expect.stringContaining('grade'),
    });
    expectInOrder(entered, ['Grading', 'RecordFailure', 'Failed']);
    expect(entered).not.toContain('Close');
    expect(h.payloads('RecordFailure')).toEqual([
      { caseId: caseIdFor(1), error: 'TypeError', cause: expect.stringContaining('errorMessage') },
    ]);
  });

  it('still fails the execution (with the original error) when recording the failure fails too', async () => {
    h.on('Verification', () => {
      throw new RangeError('bad decile');
    }).on('RecordFailure', () => {
      throw new Error('table unavailable');
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('RangeError');
    expectInOrder(entered, ['Verification', 'RecordFailure', 'Failed']);
  });

  it('restarted at the mentoring stage, goes straight to PlanMentoring', async () => {
    h.on('LoadCase', (p) => ({
      caseId: p.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'mentoring',
      approvalLevel: 'directorate',
    }));

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['LoadCase', 'RouteByStage', 'PlanMentoring', 'Mentoring', 'Grading', 'Graduated', 'Closed']);
    for (const skipped of ['Verification', 'OpenGrantApproval', 'AwaitGrantApproval', 'Disbursement']) {
      expect(entered).not.toContain(skipped);
    }
  });

  it('restarted on a closed case, ends at once', async () => {
    h.on('LoadCase', (p) => ({
      caseId: p.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'closed',
      approvalLevel: 'directorate',
    }));

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expect(entered).toEqual(['LoadCase', 'RouteByStage', 'Closed']);
    expect(h.payloads('Close')).toEqual([]);
  });

  it('graduates the family when the lender lets the financing deadline pass', async () => {
    h.on('OpenRequest', (p) => {
      if (p.kind === 'financing-outcome') throw new DeadlinePassedError('financing-outcome');
      return { waitSeconds: 60 };
    });

    const { record, entered } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['FinancingReferral', 'OpenFinancingOutcome', 'Graduated', 'Close', 'Closed']);
    expect(entered).not.toContain('AwaitFinancingOutcome');
    expect(closedWith()).toEqual(['graduated']);
  });

  it('records the lender outcome when the lender answers', async () => {
    h.answer({ 'financing-outcome': { success: { status: 'financed', amountRupiah: 5_000_000 } } });

    const { record, entered, arn } = await journey();

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['OpenFinancingOutcome', 'AwaitFinancingOutcome', 'Graduated']);
    const exited = h.history(arn).find((e) => e.stateExitedEventDetails?.name === 'AwaitFinancingOutcome');
    // ResultPath null: the lender's answer is on the case, not in the journey's data.
    expect(exited?.stateExitedEventDetails?.output).not.toContain('financed');
  });

  it('keeps many journeys apart: each family only gets its own decisions', async () => {
    const ids = [1, 2, 3, 4, 5].map(caseIdFor);
    h.answer({ 'grant-approval': (n) => (n % 2 === 0 ? { failure: GRANT_REJECTED } : { success: {} }) });

    const runs = await Promise.all(ids.map((id) => h.runJourney(id)));
    arns.push(...runs.map((r) => r.arn));

    expect(runs.map((r) => r.record.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    expect(closedWith().sort()).toEqual(['graduated', 'graduated', 'graduated', 'rejected', 'rejected']);
    for (const run of runs) {
      const caseId = JSON.parse(run.record.input).caseId;
      const closes = h.calls.filter((c) => c.fn === 'Close' && c.payload.caseId === caseId);
      expect(closes).toHaveLength(1);
    }
  });
});

/** Task events of one state, with the error for failures, in history order. */
function taskEventsOf(executionArn: string, stateName: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const e of h.history(executionArn)) {
    if (e.stateEnteredEventDetails) inside = e.stateEnteredEventDetails.name === stateName;
    else if (e.stateExitedEventDetails) inside = false;
    else if (inside && e.type?.startsWith('Task')) {
      out.push(e.taskFailedEventDetails ? `${e.type}:${e.taskFailedEventDetails.error}` : String(e.type));
    }
  }
  return out;
}
