/**
 * The runtime's own use of the engine: listing every execution, starting an intake once per
 * write, and resuming journeys and intakes after a restart. Its own file: the rules of re-runs.
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { journeyName } from '#domain/case';
import type { Engine, ExecutionRecord } from '../stepfunctions/engine.ts';

/** The cause the engine records on executions a previous process left RUNNING. */
export const RESTART_CAUSE = 'embedded runtime restarted';

export function listAllExecutions(engine: Engine, stateMachineArn: string, statusFilter?: string): ExecutionRecord[] {
  const all: ExecutionRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = engine.listExecutions({ stateMachineArn, statusFilter, maxResults: 1000, nextToken });
    all.push(...page.executions);
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

const isAlreadyExists = (e: unknown) => (e as { name?: string })?.name === 'ExecutionAlreadyExists';

/** `<base>` is run 1, `<base>-r<n>` run n. */
function runOf(name: string, base: string): number | undefined {
  if (name === base) return 1;
  const m = /^-r(\d+)$/.exec(name.slice(base.length));
  return name.startsWith(base) && m ? Number(m[1]) : undefined;
}

const baseOf = (name: string) => name.replace(/-r\d+$/, '');

export async function openCaseIds(dynamo: DynamoDBDocumentClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#sk = :case AND #stage <> :closed',
        ProjectionExpression: 'caseId',
        ExpressionAttributeNames: { '#sk': 'sk', '#stage': 'stage' },
        ExpressionAttributeValues: { ':case': 'CASE', ':closed': 'closed' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const caseId = (item as { caseId?: unknown }).caseId;
      if (typeof caseId === 'string') ids.push(caseId);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return ids;
}

/**
 * Principle 1: the case is the truth. Every case not closed that no journey is running
 * for gets a new run; it continues from the case's stage. Names already used (by any
 * status) are skipped, as Step Functions refuses them.
 */
export async function resumeJourneys(engine: Engine, journeyArn: string, caseIds: string[]): Promise<number> {
  const names = new Set<string>();
  const running = new Set<string>();
  for (const e of listAllExecutions(engine, journeyArn)) {
    names.add(e.name);
    if (e.status === 'RUNNING') running.add(baseOf(e.name));
  }
  let started = 0;
  for (const caseId of caseIds) {
    if (running.has(caseId)) continue;
    let run = 1;
    while (names.has(journeyName(caseId, run))) run += 1;
    try {
      await engine.startExecution({
        stateMachineArn: journeyArn,
        name: journeyName(caseId, run),
        input: JSON.stringify({ caseId }),
      });
      started += 1;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  return started;
}

/**
 * Starts the intake of one write of a file (its name comes from the key and the write's
 * ETag, unique per write as in the KMS-encrypted bucket on AWS). The same write delivered
 * again finds its name taken and starts nothing, unless that intake ended without
 * success: then the repeated delivery runs it again, under the next run's name. An
 * officer's new upload of the same file is a new write, hence a new intake.
 */
export async function startIntake(engine: Engine, intakeArn: string, name: string, input: { bucket: string; key: string }) {
  try {
    await engine.startExecution({ stateMachineArn: intakeArn, name, input: JSON.stringify(input) });
    return;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  let latest: { run: number; status: string } = { run: 1, status: 'RUNNING' };
  for (const e of listAllExecutions(engine, intakeArn)) {
    const run = runOf(e.name, name);
    if (run !== undefined && run >= latest.run) latest = { run, status: e.status };
  }
  if (latest.status === 'RUNNING' || latest.status === 'SUCCEEDED') return;
  try {
    await engine.startExecution({ stateMachineArn: intakeArn, name: `${name}-r${latest.run + 1}`, input: JSON.stringify(input) });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/**
 * Intake is idempotent per row, so an intake the previous process left unfinished is
 * simply run again, under the next run's name, with the same input.
 */
export async function resumeIntakes(engine: Engine, intakeArn: string): Promise<number> {
  const latest = new Map<string, { run: number; record: ExecutionRecord }>();
  for (const e of listAllExecutions(engine, intakeArn)) {
    const base = baseOf(e.name);
    const run = runOf(e.name, base) ?? 1;
    const seen = latest.get(base);
    if (!seen || run > seen.run) latest.set(base, { run, record: e });
  }
  let started = 0;
  for (const [base, { run, record }] of latest) {
    if (record.status !== 'ABORTED' || record.cause !== RESTART_CAUSE) continue;
    try {
      await engine.startExecution({ stateMachineArn: intakeArn, name: `${base}-r${run + 1}`, input: record.input });
      started += 1;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  return started;
}
