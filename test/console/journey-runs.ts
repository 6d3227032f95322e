/**
 * Recorded histories of the real journey (workflows/journey.asl.json) on the embedded
 * engine, for the console's drawings: the engine runs the ASL as it runs it in `prokus dev`,
 * with scripted functions in place of the handlers, so a test chooses where the journey
 * goes (two approval levels, a retried then failing disbursement, a wait that is still open)
 * and reads the history the console reads: GetExecutionHistory, page by page.
 */
import { readFile } from 'node:fs/promises';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { functionArn, substitutions } from '../../embedded/runtime/handlers.ts';
import { Engine } from '../../embedded/stepfunctions/engine.ts';
import type { WorkflowFunctionId } from '../../workflows/functions.ts';

export const JOURNEY_ASL = new URL('../../workflows/journey.asl.json', import.meta.url);
export const INTAKE_ASL = new URL('../../workflows/intake.asl.json', import.meta.url);

export type Ending = 'disbursement-fails' | 'waits-at-second-level' | 'graduates';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** Every page of an execution's history, `pageSize` events at a time, as the console pages it. */
export function allPages(engine: Engine, executionArn: string, pageSize = 25): { events: HistoryEvent[]; pages: number } {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = engine.getExecutionHistory({ executionArn, maxResults: pageSize, ...(nextToken ? { nextToken } : {}) });
    events.push(...page.events);
    nextToken = page.nextToken;
    pages += 1;
  } while (nextToken);
  return { events, pages };
}

/**
 * Runs one journey to `ending` and returns its history (all pages) and the engine, still
 * open when the journey waits (close it). Approval has two levels (district head, then
 * directorate); the disbursement fails once with TransientError (retried) when it fails.
 */
export async function recordJourney(ending: Ending): Promise<{ events: HistoryEvent[]; pages: number; engine: Engine }> {
  const engine = new Engine({ retryIntervalMs: 1 });
  const arn = engine.registerStateMachine('journey', await readFile(JOURNEY_ASL, 'utf8'), substitutions());
  let waiting: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    waiting = resolve;
  });
  // Settled a moment later, as a person's decision is: the engine records the wait first.
  const settle = (taskToken: string, output: unknown) =>
    void setTimeout(() => engine.sendTaskSuccess({ taskToken, output: JSON.stringify(output) }), 5);
  let disbursements = 0;
  let approvals = 0;
  const fns: Partial<Record<WorkflowFunctionId, (event: Record<string, unknown>) => Promise<unknown>>> = {
    LoadCase: async (e) => ({
      caseId: e.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'grant-approval',
      approvalLevel: 'district-head',
    }),
    OpenRequest: async () => ({ waitSeconds: 3600, sent: true }),
    AwaitRequest: async (e) => {
      const token = String(e.taskToken);
      if (e.kind === 'grant-approval') {
        approvals += 1;
        if (approvals === 2 && ending === 'waits-at-second-level') {
          waiting();
          return { sent: true };
        }
        settle(token, { nextLevel: approvals === 1 ? 'directorate' : null });
      } else if (e.kind === 'milestone-report') {
        settle(token, { reported: e.milestoneId });
      } else {
        settle(token, { outcome: 'approved', scheme: 'KUR' });
      }
      return { sent: true };
    },
    Disbursement: async () => {
      disbursements += 1;
      if (ending !== 'disbursement-fails') return { amount: 3_500_000 };
      if (disbursements === 1) throw named('TransientError', 'DynamoDB throttled the grant write');
      throw named('LedgerUnavailableError', 'The BSiMU ledger refused the transfer: account frozen');
    },
    PlanMentoring: async () => ({ pending: [{ milestoneId: 'pembukuan' }, { milestoneId: 'kemasan' }] }),
    Grading: async () => ({ grade: 'berkembang' }),
    FinancingReferral: async () => ({ scheme: 'KUR' }),
    Close: async () => ({ closed: true }),
    RecordFailure: async () => ({ recorded: true }),
  };
  for (const [id, fn] of Object.entries(fns)) {
    engine.registerLambda(functionArn(id as WorkflowFunctionId), (event) => fn(event as Record<string, unknown>));
  }
  const { executionArn } = await engine.startExecution({
    stateMachineArn: arn,
    name: '3210-2020-console0000000000000001',
    input: JSON.stringify({ caseId: '3210-2020-console0000000000000001' }),
  });
  if (ending === 'waits-at-second-level') {
    await held;
    // The wait task's TaskSubmitted is recorded once the handler returned.
    await new Promise((r) => setTimeout(r, 50));
  } else {
    await engine.waitForExecution(executionArn);
  }
  return { ...allPages(engine, executionArn), engine };
}
