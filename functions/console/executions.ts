/**
 * What the console reads from Step Functions, through its API only (the same calls reach
 * AWS and the embedded endpoint): a case's journey executions, an execution's history and
 * definition, failed executions, the intakes. Every read is bounded: a page of a list, at
 * most HISTORY_PAGES pages of a history.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  DescribeStateMachineForExecutionCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { journeyName } from '#domain/case';
import { sfn } from '#lib/clients/sfn';
import { requiredEnv } from '#lib/env';

export type Machine = 'journey' | 'intake';

export const machineArn = (machine: Machine) =>
  requiredEnv(machine === 'journey' ? 'JOURNEY_STATE_MACHINE_ARN' : 'INTAKE_STATE_MACHINE_ARN');

/** arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>. */
export function executionArn(machine: Machine, name: string): string {
  return `${machineArn(machine).replace(':stateMachine:', ':execution:')}:${name}`;
}

const isMissing = (e: unknown) => (e as { name?: string })?.name === 'ExecutionDoesNotExist';

/**
 * The journey executions of a case, in run order: `<caseId>`, `<caseId>-r2`, … Runs are
 * counted on the case (journeyRuns), but a run can fail before it counts itself and an
 * operator's resume names the next: the names are tried until two in a row do not exist.
 */
export async function journeyExecutions(caseId: string, runsKnown: number): Promise<DescribeExecutionOutput[]> {
  const found: DescribeExecutionOutput[] = [];
  let missing = 0;
  for (let run = 1; run <= Math.max(runsKnown, 1) + 2 && missing < 2; run++) {
    try {
      found.push(
        await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn('journey', journeyName(caseId, run)) })),
      );
      missing = 0;
    } catch (e) {
      if (!isMissing(e)) throw e;
      if (run > runsKnown) missing += 1;
    }
  }
  return found;
}

export async function describeExecution(machine: Machine, name: string): Promise<DescribeExecutionOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(machine, name) }));
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** At most this many pages of 1,000 events: a journey's history is a few hundred; a stuck loop is cut off, and says so. */
export const HISTORY_PAGES = 10;

export async function executionHistory(arn: string): Promise<{ events: HistoryEvent[]; truncated: boolean }> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000, nextToken, includeExecutionData: true }),
    );
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken) return { events, truncated: false };
  }
  return { events, truncated: true };
}

/** The definition the execution ran (the state machine's version at its start). */
export async function definitionOf(arn: string): Promise<string> {
  const out = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: arn }));
  return out.definition ?? '{}';
}

export interface ExecutionPage {
  executions: ExecutionListItem[];
  nextToken?: string;
}

/** One page of a machine's executions, newest first, optionally of one status. */
export async function listExecutions(
  machine: Machine,
  opts: { status?: ExecutionStatus; nextToken?: string; pageSize?: number } = {},
): Promise<ExecutionPage> {
  const out = await sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: machineArn(machine),
      statusFilter: opts.status,
      maxResults: opts.pageSize ?? 50,
      nextToken: opts.nextToken,
    }),
  );
  return { executions: out.executions ?? [], ...(out.nextToken ? { nextToken: out.nextToken } : {}) };
}
