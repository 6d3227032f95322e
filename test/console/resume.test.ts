/**
 * The console's resume of a failed journey (functions/console/resume.ts), with the SDK
 * mocked: the operator is recorded before the execution starts, a repeated click or a
 * crash between the two starts at most one execution, and what cannot be resumed says why.
 */
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#domain/case';
import { resumeJourney } from '../../functions/console/resume.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { setTestEnv } from '../helpers/lambda.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
setTestEnv();
process.env.JOURNEY_STATE_MACHINE_ARN = 'arn:aws:states:ap-southeast-3:000000000000:stateMachine:prokus-journey';
process.env.INTAKE_STATE_MACHINE_ARN = 'arn:aws:states:ap-southeast-3:000000000000:stateMachine:prokus-intake';

const caseId = '3210-2020-abcdef0123456789abcd';
const operator = decidedByOf('operator@kemensos.example');
const failure = { error: 'SendingPausedException', cause: 'Email sending is disabled', at: '2026-01-06T00:00:00.000Z' };
const executionArn = (name: string) => `arn:aws:states:ap-southeast-3:000000000000:execution:prokus-journey:${name}`;

/** The case as the table holds it now; an UpdateCommand that lands changes it, as DynamoDB would. */
function store(initial: Case) {
  let current = initial;
  ddb.on(GetCommand).callsFake(() => ({ Item: caseItem(current) }));
  ddb
    .on(UpdateCommand)
    .callsFake(
      (input: { ExpressionAttributeValues: Record<string, unknown>; ExpressionAttributeNames: Record<string, string> }) => {
        const values = input.ExpressionAttributeValues;
        const names = input.ExpressionAttributeNames;
        const next: Record<string, unknown> = { ...current };
        for (const [placeholder, name] of Object.entries(names)) {
          const value = values[placeholder.replace('#a', ':v')];
          if (placeholder.startsWith('#a') && value !== undefined) next[name] = value;
        }
        next.rev = values[':next'];
        next.updatedAt = values[':now'];
        current = next as Case;
        return {};
      },
    );
  return () => current;
}

/** Which journey executions exist, and their status. */
function executions(existing: Record<string, string>) {
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const name = input.executionArn.split(':').at(-1) ?? '';
    const status = existing[name];
    if (!status) throw Object.assign(new Error('does not exist'), { name: 'ExecutionDoesNotExist' });
    return { executionArn: input.executionArn, name, status };
  });
}

beforeEach(() => {
  ddb.reset();
  sfn.reset();
});

describe('resumeJourney', () => {
  it("records the operator and the failure on the case, then starts the next run '<caseId>-r2'", async () => {
    const now = store(makeCase({ stage: 'grant-approval', failure }));
    executions({ [caseId]: 'FAILED' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${caseId}-r2`) });
    const answer = await resumeJourney(caseId, operator, new Date('2026-01-07T00:00:00Z'));
    expect(answer).toMatchObject({ kind: 'started', resume: { execution: `${caseId}-r2`, decidedBy: operator } });
    expect(now().resumes).toEqual([
      {
        decidedBy: operator,
        at: '2026-01-07T00:00:00.000Z',
        execution: `${caseId}-r2`,
        failure: { error: failure.error, at: failure.at },
      },
    ]);
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start).toEqual({
      stateMachineArn: process.env.JOURNEY_STATE_MACHINE_ARN,
      name: `${caseId}-r2`,
      input: JSON.stringify({ caseId }),
    });
    // The record was written before the start (a crash between them leaves the record, not a nameless run).
    const recordCall = ddb.commandCalls(UpdateCommand)[0];
    const startCall = sfn.commandCalls(StartExecutionCommand)[0];
    expect(recordCall && startCall && recordCall.calledBefore(startCall)).toBe(true);
  });

  it('a second click (or a second operator) for the same failure records nothing more and starts nothing new', async () => {
    const recorded = {
      decidedBy: operator,
      at: '2026-01-07T00:00:00.000Z',
      execution: `${caseId}-r2`,
      failure: { error: failure.error, at: failure.at },
    };
    store(makeCase({ stage: 'grant-approval', failure, resumes: [recorded] }));
    executions({ [caseId]: 'FAILED', [`${caseId}-r2`]: 'RUNNING' });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    const answer = await resumeJourney(caseId, decidedByOf('other.operator@kemensos.example'));
    expect(answer).toEqual({ kind: 'already', resume: recorded });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('after a crash between recording and starting, the next click starts the recorded execution', async () => {
    const recorded = {
      decidedBy: operator,
      at: '2026-01-07T00:00:00.000Z',
      execution: `${caseId}-r3`,
      failure: { error: failure.error, at: failure.at },
    };
    store(makeCase({ stage: 'mentoring', failure, journeyRuns: 2, resumes: [recorded] }));
    executions({ [caseId]: 'FAILED', [`${caseId}-r2`]: 'FAILED' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${caseId}-r3`) });
    const answer = await resumeJourney(caseId, operator);
    expect(answer).toEqual({ kind: 'started', resume: recorded });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toBe(`${caseId}-r3`);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('names the run after the highest that exists, counted or not', async () => {
    store(makeCase({ stage: 'grant-approval', failure, journeyRuns: 1 }));
    executions({ [caseId]: 'FAILED', [`${caseId}-r2`]: 'FAILED' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${caseId}-r3`) });
    const answer = await resumeJourney(caseId, operator);
    expect(answer.kind === 'started' && answer.resume.execution).toBe(`${caseId}-r3`);
  });

  it('refuses while an execution runs, for a closed case, for one that did not fail, and for no case', async () => {
    store(makeCase({ stage: 'grant-approval', failure }));
    executions({ [caseId]: 'FAILED', [`${caseId}-r2`]: 'RUNNING' });
    await expect(resumeJourney(caseId, operator)).resolves.toEqual({ kind: 'refused', code: 'JOURNEY_RUNNING' });
    store(makeCase({ stage: 'closed', outcome: 'rejected', failure }));
    await expect(resumeJourney(caseId, operator)).resolves.toEqual({ kind: 'refused', code: 'CASE_CLOSED' });
    store(makeCase({ stage: 'grant-approval' }));
    await expect(resumeJourney(caseId, operator)).resolves.toEqual({ kind: 'refused', code: 'NOT_FAILED' });
    ddb.on(GetCommand).resolves({});
    await expect(resumeJourney(caseId, operator)).resolves.toEqual({ kind: 'refused', code: 'CASE_NOT_FOUND' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
