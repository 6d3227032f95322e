/**
 * With a stateDir, executions and their history survive the process: a clean close, a
 * torn last line, and `kill -9` of a process with executions waiting for approval.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';

const DEFINITION = JSON.stringify({
  StartAt: 'Route',
  States: {
    Route: { Type: 'Choice', Choices: [{ Variable: '$.wait', BooleanEquals: true, Next: 'Await' }], Default: 'Done' },
    Await: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'await', Payload: { 'caseId.$': '$.caseId', 'taskToken.$': '$$.Task.Token' } },
      TimeoutSeconds: 3600,
      End: true,
    },
    Done: { Type: 'Succeed' },
  },
});

let dir: string;
const engines: Engine[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prokus-engine-'));
});

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openEngine(stateDir = dir): Promise<{ engine: Engine; arn: string }> {
  const engine = new Engine({ stateDir });
  engines.push(engine);
  engine.registerLambda('await', async () => ({ emailed: true }));
  const arn = engine.registerStateMachine('journey', DEFINITION, {});
  await engine.open();
  return { engine, arn };
}

async function start(engine: Engine, arn: string, name: string, wait: boolean): Promise<string> {
  const { executionArn } = await engine.startExecution({
    stateMachineArn: arn,
    name,
    input: JSON.stringify({ caseId: name, wait }),
  });
  return executionArn;
}

function all(engine: Engine, arn: string) {
  const out = [];
  let nextToken: string | undefined;
  do {
    const page = engine.listExecutions({ stateMachineArn: arn, maxResults: 1000, nextToken });
    out.push(...page.executions);
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

describe('persistence', () => {
  it('keeps executions and their history across a restart; what was running becomes ABORTED', async () => {
    const first = await openEngine();
    const done = await start(first.engine, first.arn, 'done-1', false);
    await first.engine.waitForExecution(done);
    const waiting = await start(first.engine, first.arn, 'waiting-1', true);
    await new Promise((r) => setTimeout(r, 20));
    const historyBefore = first.engine.getExecutionHistory({ executionArn: done }).events;
    await first.engine.close();

    const second = await openEngine();

    expect(second.engine.describeExecution(done)).toMatchObject({
      status: 'SUCCEEDED',
      output: '{"caseId":"done-1","wait":false}',
    });
    expect(second.engine.getExecutionHistory({ executionArn: done }).events).toEqual(historyBefore);
    expect(second.engine.describeExecution(waiting)).toMatchObject({ status: 'ABORTED', cause: 'embedded runtime restarted' });
    const waitingHistory = second.engine.getExecutionHistory({ executionArn: waiting }).events;
    expect(waitingHistory.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'ExecutionAborted',
    ]);
    expect(waitingHistory.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Names stay taken, as on AWS: a restarted journey needs a new name.
    await expect(start(second.engine, second.arn, 'waiting-1', true)).rejects.toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    const next = await start(second.engine, second.arn, 'waiting-1-r2', false);
    expect((await second.engine.waitForExecution(next)).status).toBe('SUCCEEDED');
    expect(all(second.engine, second.arn).map((e) => e.name)).toEqual(['waiting-1-r2', 'waiting-1', 'done-1']);
  });

  it('drops a line cut short by a crash and goes on appending after it', async () => {
    const first = await openEngine();
    const done = await start(first.engine, first.arn, 'done-1', false);
    await first.engine.waitForExecution(done);
    await first.engine.close();
    appendFileSync(join(dir, 'executions.jsonl'), '{"n":2,"k":"start","arn":"arn:aws:sta');
    appendFileSync(join(dir, 'history.jsonl'), '{"n":2,"e":{"type":"Execu');

    const second = await openEngine();
    const again = await start(second.engine, second.arn, 'done-2', false);
    await second.engine.waitForExecution(again);
    await second.engine.close();
    const third = await openEngine();

    expect(all(third.engine, third.arn).map((e) => [e.name, e.status])).toEqual([
      ['done-2', 'SUCCEEDED'],
      ['done-1', 'SUCCEEDED'],
    ]);
    expect(third.engine.getExecutionHistory({ executionArn: again }).events.at(-1)?.type).toBe('ExecutionSucceeded');
  });

  it('survives kill -9 while journeys wait for approval', async () => {
    const engineUrl = new URL('../../../embedded/stepfunctions/engine.ts', import.meta.url).href;
    const script = join(dir, 'crash.mts');
    writeFileSync(
      script,
      `import { Engine } from ${JSON.stringify(engineUrl)};
const engine = new Engine({ stateDir: process.argv[2] });
engine.registerLambda('await', async () => ({ emailed: true }));
const arn = engine.registerStateMachine('journey', ${JSON.stringify(DEFINITION)}, {});
await engine.open();
const done = [];
for (let i = 1; i <= 5; i++) {
  const { executionArn } = await engine.startExecution({ stateMachineArn: arn, name: 'done-' + i, input: JSON.stringify({ caseId: 'c' + i, wait: false }) });
  done.push(engine.waitForExecution(executionArn));
}
for (let i = 1; i <= 20; i++) {
  await engine.startExecution({ stateMachineArn: arn, name: 'waiting-' + i, input: JSON.stringify({ caseId: 'w' + i, wait: true }) });
}
await Promise.all(done);
while (engine.activity().waitingForTask < 20) await new Promise((r) => setTimeout(r, 10));
setTimeout(() => process.stdout.write('ready\\n'), 20);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, join(dir, 'sfn')], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        if (String(d).includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const after = await openEngine(join(dir, 'sfn'));

    const executions = all(after.engine, after.arn);
    expect(executions).toHaveLength(25);
    expect(executions.filter((e) => e.status === 'SUCCEEDED').map((e) => e.name)).toHaveLength(5);
    const aborted = executions.filter((e) => e.status === 'ABORTED');
    expect(aborted).toHaveLength(20);
    for (const e of aborted) {
      expect(e.cause).toBe('embedded runtime restarted');
      const types = after.engine.getExecutionHistory({ executionArn: e.executionArn }).events.map((h) => h.type);
      expect(types.slice(-2)).toEqual(['TaskSubmitted', 'ExecutionAborted']);
    }
  }, 60_000);

  it('reopens thousands of executions quickly, and pages through them', async () => {
    const first = await openEngine();
    const n = 2000;
    const arns = await Promise.all(Array.from({ length: n }, (_, i) => start(first.engine, first.arn, `case-${i}`, false)));
    await Promise.all(arns.map((a) => first.engine.waitForExecution(a)));
    await first.engine.close();

    const started = performance.now();
    const second = await openEngine();
    const opened = performance.now() - started;

    const listed = all(second.engine, second.arn);
    expect(listed).toHaveLength(n);
    expect(new Set(listed.map((e) => e.name)).size).toBe(n);
    expect(second.engine.getExecutionHistory({ executionArn: arns[1234] as string }).events).toHaveLength(6);
    expect(opened).toBeLessThan(3000);
  });
});
