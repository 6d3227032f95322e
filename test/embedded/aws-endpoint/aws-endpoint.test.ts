/**
 * The local AWS endpoint, spoken to by the real SDK clients the handlers use (and the
 * AWS CLI would): Step Functions on the engine, Secrets Manager, SES v2 to the outbox.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BadRequestException, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidName,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  paginateGetExecutionHistory,
  paginateListExecutions,
  RedriveExecutionCommand,
  ResourceNotFound,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  ValidateStateMachineDefinitionCommand,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../embedded/aws-endpoint/server.ts';
import type { Keyring, LocalCredentials } from '../../../embedded/local/local-auth.ts';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';
import { rawRequest } from '../../helpers/sigv4.ts';

const DEFINITION = {
  Comment: 'approval',
  StartAt: 'Await',
  States: {
    Await: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: '\u0024{AwaitFunctionArn}',
        Payload: { 'caseId.$': '$.caseId', 'taskToken.$': '$$.Task.Token' },
      },
      TimeoutSeconds: 3600,
      Catch: [{ ErrorEquals: ['GrantRejected'], ResultPath: '$.error', Next: 'Rejected' }],
      ResultPath: '$.decision',
      End: true,
    },
    Rejected: { Type: 'Pass', End: true },
  },
};
const FUNCTION = 'arn:aws:lambda:ap-southeast-3:000000000000:function:await';

let dir: string;
let engine: Engine;
let endpoint: AwsEndpoint;
let machineArn: string;
let sfn: SFNClient;
const tokens = new Map<string, string>();

const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALTESTOPERATOR000', secretAccessKey: 'operator-secret-for-the-endpoint-test' },
  runtime: { accessKeyId: 'RUNTIMETESTKEY000000', secretAccessKey: 'runtime-secret-for-the-endpoint-test' },
};

function clientConfig(credentials: LocalCredentials = keyring.runtime) {
  return { endpoint: endpoint.url, region: 'ap-southeast-3', credentials, maxAttempts: 1 };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prokus-endpoint-'));
  engine = new Engine();
  machineArn = engine.registerStateMachine('journey', JSON.stringify(DEFINITION), { AwaitFunctionArn: FUNCTION });
  engine.registerLambda(FUNCTION, async (event) => {
    const { caseId, taskToken } = event as { caseId: string; taskToken: string };
    tokens.set(caseId, taskToken);
    return {};
  });
  endpoint = await startAwsEndpoint({
    engine,
    outboxDir: join(dir, 'outbox'),
    secrets: { 'prokus/keys': '{"k":"v"}' },
    keyring,
    port: 0,
  });
  sfn = new SFNClient(clientConfig(keyring.operator));
});

afterAll(async () => {
  sfn.destroy();
  await endpoint.close();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startWaiting(caseId: string): Promise<string> {
  const out = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: machineArn, name: caseId, input: JSON.stringify({ caseId }) }),
  );
  while (!tokens.has(caseId)) await new Promise((r) => setTimeout(r, 5));
  return out.executionArn as string;
}

describe('Step Functions API', () => {
  it('lists and describes the state machines', async () => {
    const list = await sfn.send(new ListStateMachinesCommand({}));
    expect(list.stateMachines).toEqual([
      { stateMachineArn: machineArn, name: 'journey', type: 'STANDARD', creationDate: expect.any(Date) },
    ]);
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));
    expect(described).toMatchObject({ name: 'journey', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition ?? '').States.Await.Parameters.FunctionName).toBe(FUNCTION);
  });

  it('starts, describes and completes an execution through SendTaskSuccess', async () => {
    const executionArn = await startWaiting('case-ok');

    const running = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(running).toMatchObject({
      status: 'RUNNING',
      name: 'case-ok',
      input: '{"caseId":"case-ok"}',
      stateMachineArn: machineArn,
    });
    expect(running.startDate).toBeInstanceOf(Date);
    expect(Math.abs((running.startDate as Date).getTime() - Date.now())).toBeLessThan(10_000);

    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: tokens.get('case-ok') }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens.get('case-ok'), output: '{"decision":"approved"}' }));
    await engine.waitForExecution(executionArn);

    const done = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(done.output ?? '')).toEqual({ caseId: 'case-ok', decision: { decision: 'approved' } });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: tokens.get('case-ok'), output: '{}' }))).rejects.toBeInstanceOf(
      TaskTimedOut,
    );
  });

  it('fails the task through SendTaskFailure', async () => {
    const executionArn = await startWaiting('case-rejected');

    await sfn.send(new SendTaskFailureCommand({ taskToken: tokens.get('case-rejected'), error: 'GrantRejected', cause: 'x' }));
    await engine.waitForExecution(executionArn);

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 100 }));
    const names = history.events?.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
    expect(names).toEqual(['Await', 'Rejected']);
  });

  it('raises the typed SDK exceptions the service raises', async () => {
    await startWaiting('case-dup');
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'case-dup', input: '{"caseId":"other"}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'has space', input: '{}' })),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${machineArn}-gone`, input: '{}' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: machineArn.replace('stateMachine', 'execution').concat(':nobody') })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' }))).rejects.toBeInstanceOf(InvalidArn);
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'A'.repeat(86), output: '{}' }))).rejects.toBeInstanceOf(
      TaskDoesNotExist,
    );
  });

  it('stops an execution', async () => {
    const executionArn = await startWaiting('case-stop');

    const stopped = await sfn.send(new StopExecutionCommand({ executionArn, cause: 'proposal withdrawn' }));

    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', cause: 'proposal withdrawn' });
  });

  it('pages executions and history the way the SDK paginators expect', async () => {
    for (let i = 1; i <= 5; i++) await startWaiting(`case-page-${i}`);

    const names: string[] = [];
    for await (const page of paginateListExecutions({ client: sfn, pageSize: 2 }, { stateMachineArn: machineArn })) {
      names.push(...(page.executions ?? []).map((e) => e.name as string));
    }
    expect(names.slice(0, 5)).toEqual(['case-page-5', 'case-page-4', 'case-page-3', 'case-page-2', 'case-page-1']);
    expect(new Set(names).size).toBe(names.length);

    const executionArn = machineArn.replace(':stateMachine:', ':execution:').concat(':case-page-1');
    const ids: number[] = [];
    for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 2 }, { executionArn })) {
      for (const e of page.events ?? []) {
        ids.push(e.id as number);
        expect(e.timestamp).toBeInstanceOf(Date);
      }
    }
    expect(ids).toEqual(ids.map((_, i) => i + 1));

    const bare = await sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }));
    expect(bare.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();
  });

  it('answers malformed requests with ValidationException', async () => {
    const call = async (target: string, body: string) => {
      const res = await rawRequest(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
        body,
        sign: { credentials: keyring.operator, service: 'states' },
      });
      return { status: res.status, json: async () => JSON.parse(res.body) as unknown };
    };

    const wrongType = await call('AWSStepFunctions.DescribeExecution', '{"executionArn": 5}');
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({
      __type: 'ValidationException',
      message: expect.stringContaining('executionArn'),
    });
    const notJson = await call('AWSStepFunctions.StartExecution', '{"stateMachineArn":');
    expect(await notJson.json()).toMatchObject({ __type: 'ValidationException' });
    const unknown = await call('AWSStepFunctions.CreateStateMachine', '{}');
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('Step Functions API: what the console and the AWS CLI ask besides', () => {
  it('describes the state machine an execution ran, and lists the (no) tags of a state machine', async () => {
    const executionArn = await startWaiting('case-for-machine');
    const m = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
    expect(m).toMatchObject({ stateMachineArn: machineArn, name: 'journey', updateDate: expect.any(Date) });
    expect(JSON.parse(m.definition ?? '').StartAt).toBe('Await');
    await expect(
      sfn.send(
        new DescribeStateMachineForExecutionCommand({
          executionArn: `${machineArn.replace(':stateMachine:', ':execution:')}:nope`,
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: machineArn }))).tags).toEqual([]);
    await expect(sfn.send(new ListTagsForResourceCommand({ resourceArn: `${machineArn}-gone` }))).rejects.toBeInstanceOf(
      ResourceNotFound,
    );
  });

  it('validates a definition as ValidateStateMachineDefinition does: OK, or FAIL with each problem', async () => {
    const ok = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify(DEFINITION) }));
    expect(ok).toMatchObject({ result: 'OK', diagnostics: [] });
    const broken = await sfn.send(
      new ValidateStateMachineDefinitionCommand({
        definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } }),
      }),
    );
    expect(broken.result).toBe('FAIL');
    expect(broken.diagnostics?.map((d) => [d.severity, d.code])).toEqual([
      ['ERROR', 'MISSING_TRANSITION_TARGET'],
      ['ERROR', 'MISSING_TERMINAL_STATE'],
    ]);
    expect(broken.diagnostics?.[0]?.message).toContain('Nowhere');
    const notJson = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: '{"StartAt":' }));
    expect(notJson.diagnostics?.[0]).toMatchObject({ severity: 'ERROR', code: 'INVALID_JSON_DESCRIPTION' });
  });

  it('lists no Map Runs (Distributed Maps run inline here) and says so for a Map Run asked by ARN', async () => {
    const executionArn = await startWaiting('case-map-runs');
    expect((await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns).toEqual([]);
    const mapRunArn = `${machineArn.replace(':stateMachine:', ':mapRun:')}/StartJourneys:1`;
    await expect(sfn.send(new DescribeMapRunCommand({ mapRunArn }))).rejects.toMatchObject({
      name: 'ResourceNotFound',
      message: expect.stringContaining('inline'),
    });
  });
});

describe('Step Functions API: RedriveExecution', () => {
  it('redrives a failed execution: same ARN, RUNNING again, counted, in the history, then SUCCEEDED', async () => {
    const executionArn = await startWaiting('case-redrive');
    const firstToken = tokens.get('case-redrive');
    await sfn.send(new SendTaskFailureCommand({ taskToken: firstToken, error: 'RegistryDown', cause: 'x' }));
    await engine.waitForExecution(executionArn);
    const failed = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(failed).toMatchObject({ status: 'FAILED', error: 'RegistryDown', redriveCount: 0, redriveStatus: 'REDRIVABLE' });

    const { redriveDate } = await sfn.send(new RedriveExecutionCommand({ executionArn }));

    expect(redriveDate).toBeInstanceOf(Date);
    const running = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(running).toMatchObject({
      status: 'RUNNING',
      redriveCount: 1,
      redriveDate,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: expect.stringContaining('RUNNING'),
    });
    expect(running.error).toBeUndefined();
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    while (tokens.get('case-redrive') === firstToken) await new Promise((r) => setTimeout(r, 5));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens.get('case-redrive'), output: '{"decision":"approved"}' }));
    await engine.waitForExecution(executionArn);

    const done = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const redriven = history.events?.filter((e) => e.type === 'ExecutionRedriven') ?? [];
    expect(redriven.map((e) => e.executionRedrivenEventDetails)).toEqual([{ redriveCount: 1 }]);
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);

    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, redriveFilter: 'REDRIVEN' }));
    expect(listed.executions?.map((e) => [e.name, e.redriveCount])).toEqual([['case-redrive', 1]]);
    await expect(
      sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: 'PENDING_REDRIVE' })),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('answers a repeated clientToken with the first redrive', async () => {
    const executionArn = await startWaiting('case-redrive-token');
    await sfn.send(new SendTaskFailureCommand({ taskToken: tokens.get('case-redrive-token'), error: 'RegistryDown' }));
    await engine.waitForExecution(executionArn);

    const first = await sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'operator-retry-1' }));
    const again = await sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'operator-retry-1' }));

    expect(again.redriveDate).toEqual(first.redriveDate);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).redriveCount).toBe(1);
    await sfn.send(new StopExecutionCommand({ executionArn }));
  });
});

describe('Secrets Manager API', () => {
  it('returns known secrets and ResourceNotFoundException for others', async () => {
    const client = new SecretsManagerClient(clientConfig());

    const secret = await client.send(new GetSecretValueCommand({ SecretId: 'prokus/keys' }));
    expect(secret).toMatchObject({ Name: 'prokus/keys', SecretString: '{"k":"v"}', VersionStages: ['AWSCURRENT'] });
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: secret.ARN }));
    expect(byArn.SecretString).toBe('{"k":"v"}');
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'prokus/other' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    client.destroy();
  });
});

describe('SES v2 API', () => {
  it('writes a raw message to the outbox as an .eml file', async () => {
    const client = new SESv2Client(clientConfig());
    const mime = 'From: prokus@kemensos.example\r\nTo: approver@dinsos.example\r\nSubject: Persetujuan\r\n\r\nBuka tautan.\r\n';

    const sent = await client.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(mime) } } }));

    const files = readdirSync(join(dir, 'outbox'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z-${sent.MessageId}\\.eml$`));
    expect(readFileSync(join(dir, 'outbox', files[0] as string), 'utf8')).toBe(mime);

    await expect(
      client.send(
        new SendEmailCommand({
          Destination: { ToAddresses: ['a@b.example'] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 'b' } } } },
        }),
      ),
    ).rejects.toBeInstanceOf(BadRequestException);
    client.destroy();
  });
});
