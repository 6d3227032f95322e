/**
 * Runs the real workflows/*.asl.json on the embedded Engine with stub Lambda functions.
 * Each stub records the payload it received and does what the test says (by default,
 * the happy path); the "person" behind AwaitRequest answers through the engine's
 * SendTaskSuccess / SendTaskFailure, as the approval and report pages do.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Engine, type ExecutionRecord, type HistoryEvent } from '../../embedded/stepfunctions/engine.ts';
import { WORKFLOW_FUNCTION_IDS, type WorkflowFunctionId } from '../../workflows/functions.ts';

export const FUNCTIONS = WORKFLOW_FUNCTION_IDS;
export type FunctionId = WorkflowFunctionId;

export type Payload = Record<string, unknown>;
/** What a stub does on its `n`-th call (1-based). Throw to fail the task. */
export type Behaviour = (payload: Payload, n: number) => unknown;

export interface Call {
  fn: FunctionId;
  payload: Payload;
}

export const MILESTONES = ['pemisahan-keuangan', 'kemasan-merek', 'pemasaran-daring'];

/** Keys a journey or intake payload may carry: ids and non-personal facts only. */
const ALLOWED_PAYLOAD_KEYS = new Set([
  'caseId',
  'executionName',
  'kind',
  'milestoneId',
  'level',
  'taskToken',
  'outcome',
  'error',
  'cause',
  'bucket',
  'key',
]);

const functionArn = (fn: FunctionId) => `arn:aws:lambda:ap-southeast-3:000000000000:function:prokus-test-${fn}`;

function readAsl(name: string): string {
  return readFileSync(new URL(`../../workflows/${name}.asl.json`, import.meta.url), 'utf8');
}

/** A case id shaped like the real ones (district, year, keyed hash), with no long digit run. */
export function caseIdFor(i: number): string {
  return `3210-2020-k${i.toString(36).padStart(4, 'q')}hashzz0a1b2c3d4e`;
}

export type Reply = { success: unknown } | { failure: string; cause?: string } | 'ignore';

export class WorkflowHarness {
  readonly engine: Engine;
  readonly journeyArn: string;
  readonly intakeArn: string;
  readonly calls: Call[] = [];
  /** Items the intake's Distributed Map reads, by `bucket/key`. */
  readonly items = new Map<string, unknown[]>();
  readonly itemReads: string[] = [];
  /** Called before every StartExecution; throw an AWS error (e.g. `ThrottlingException`) to refuse it. */
  beforeStart?: (req: { stateMachineArn: string; name?: string }) => void;
  private readonly behaviours = new Map<FunctionId, Behaviour>();
  private readonly counts = new Map<FunctionId, number>();

  constructor() {
    this.engine = new Engine({
      retryIntervalMs: 5,
      beforeStartExecution: (req) => this.beforeStart?.(req),
      readItems: async (bucket, key) => {
        this.itemReads.push(`${bucket}/${key}`);
        const list = this.items.get(`${bucket}/${key}`);
        if (!list) throw new Error(`NoSuchKey: ${bucket}/${key}`);
        return list;
      },
    });
    const substitutions = Object.fromEntries(FUNCTIONS.map((fn) => [`${fn}FunctionArn`, functionArn(fn)]));
    this.journeyArn = this.engine.registerStateMachine('prokus-journey', readAsl('journey'), substitutions);
    this.intakeArn = this.engine.registerStateMachine('prokus-intake', readAsl('intake'), {
      ...substitutions,
      JourneyStateMachineArn: this.journeyArn,
    });
    for (const fn of FUNCTIONS) {
      this.engine.registerLambda(functionArn(fn), async (event) => {
        const payload = event as Payload;
        const n = (this.counts.get(fn) ?? 0) + 1;
        this.counts.set(fn, n);
        this.calls.push({ fn, payload });
        return (this.behaviours.get(fn) ?? this.defaults[fn])(payload, n);
      });
    }
  }

  /** Replaces a stub's behaviour for the rest of the test. */
  on(fn: FunctionId, behaviour: Behaviour): this {
    this.behaviours.set(fn, behaviour);
    return this;
  }

  /** How the person answers each kind of request (AwaitRequest), after the email went out. */
  answer(replies: Partial<Record<string, Reply | ((n: number) => Reply)>>): this {
    const asked = new Map<string, number>();
    return this.on('AwaitRequest', (payload) => {
      const kind = String(payload.kind);
      const n = (asked.get(kind) ?? 0) + 1;
      asked.set(kind, n);
      const configured = replies[kind] ?? { success: {} };
      const reply = lastLevelByDefault(kind, typeof configured === 'function' ? configured(n) : configured);
      const taskToken = String(payload.taskToken);
      setImmediate(() => this.reply(taskToken, reply));
      return { requestId: `req-${kind}-${n}` };
    });
  }

  reply(taskToken: string, reply: Reply): void {
    if (reply === 'ignore') return;
    if ('success' in reply) this.engine.sendTaskSuccess({ taskToken, output: JSON.stringify(reply.success) });
    else this.engine.sendTaskFailure({ taskToken, error: reply.failure, cause: reply.cause });
  }

  async startJourney(caseId = caseIdFor(1), name = caseId): Promise<string> {
    const { executionArn } = await this.engine.startExecution({
      stateMachineArn: this.journeyArn,
      name,
      input: JSON.stringify({ caseId }),
    });
    return executionArn;
  }

  async runJourney(caseId = caseIdFor(1)): Promise<{ arn: string; record: ExecutionRecord }> {
    const arn = await this.startJourney(caseId);
    return { arn, record: await this.engine.waitForExecution(arn) };
  }

  history(executionArn: string): HistoryEvent[] {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = this.engine.getExecutionHistory({ executionArn, maxResults: 1000, nextToken });
      events.push(...page.events);
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  /** The states the execution entered, in order (the way the workshop's tests read a history). */
  entered(executionArn: string): string[] {
    return this.history(executionArn).flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
  }

  payloads(fn: FunctionId): Payload[] {
    return this.calls.filter((c) => c.fn === fn).map((c) => c.payload);
  }

  /** No payload carries anything but ids and non-personal facts; no 16-digit number anywhere. */
  expectNoPersonalData(executionArns: string[]): void {
    for (const call of this.calls) {
      for (const key of Object.keys(call.payload)) {
        expect(ALLOWED_PAYLOAD_KEYS, `${call.fn} received ${key}`).toContain(key);
      }
    }
    const texts = [
      JSON.stringify(this.calls),
      ...executionArns.map((arn) => JSON.stringify(this.history(arn))),
      ...executionArns.map((arn) => JSON.stringify(this.engine.describeExecution(arn))),
    ];
    for (const text of texts) expect(text).not.toMatch(/\d{16}/);
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  private readonly defaults: Record<FunctionId, Behaviour> = {
    LoadCase: (p) => ({
      caseId: p.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'verification',
      approvalLevel: 'district',
    }),
    Verification: () => ({ eligible: true, ruleVersion: '2020.1' }),
    OpenRequest: () => ({ waitSeconds: 60 }),
    AwaitRequest: (p) => {
      const taskToken = String(p.taskToken);
      setImmediate(() => this.reply(taskToken, lastLevelByDefault(String(p.kind), { success: {} })));
      return {};
    },
    Disbursement: () => ({ amountRupiah: 3_500_000 }),
    PlanMentoring: () => ({ pending: MILESTONES.map((milestoneId) => ({ milestoneId })) }),
    Grading: () => ({ grade: 'berkembang' }),
    FinancingReferral: () => ({ scheme: 'umi' }),
    Close: () => ({}),
    RecordFailure: () => ({}),
    ReadProposal: () => ({
      uploadId: 'upload-1',
      accepted: 0,
      rejected: 0,
      journeys: { bucket: 'prokus-local', key: 'journeys/upload-1.json' },
    }),
  };
}

/**
 * A grant approval's success names the next level (AwaitRequest's settlement); one that
 * names none here is the last level's (`nextLevel: null`), as with a one-level program.
 */
function lastLevelByDefault(kind: string, reply: Reply): Reply {
  if (kind !== 'grant-approval' || reply === 'ignore' || !('success' in reply)) return reply;
  const success = (reply.success ?? {}) as Record<string, unknown>;
  return { success: { nextLevel: null, ...success } };
}

/** `expected` appears in `actual` in this order (other states may come between). */
export function expectInOrder(actual: string[], expected: string[]): void {
  let from = 0;
  for (const name of expected) {
    const at = actual.indexOf(name, from);
    expect(at, `${name} after position ${from} in ${actual.join(' → ')}`).toBeGreaterThanOrEqual(0);
    from = at + 1;
  }
}
