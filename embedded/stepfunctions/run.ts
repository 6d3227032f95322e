/**
 * The in-memory shapes of a state machine, an execution, its run and a task attempt. Its own
 * file so engine.ts, run-loop.ts and tasks.ts share them without importing one another.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import type { Json, PreparedMachine, TaskSpec } from './asl-rewrite.ts';
import type { ExecutionRecord, Redrive } from './execution-store.ts';
import type { HistoryRecorder } from './history.ts';

export interface Machine {
  arn: string;
  name: string;
  prepared: PreparedMachine;
  library: StateMachine;
  createdAt: Date;
}

export interface Entry {
  n: number;
  record: ExecutionRecord;
  run?: Run;
  /** Its redrives, oldest first: the clientTokens of the last ones answer again the same. */
  redrives: Redrive[];
}

export interface Run {
  entry: Entry;
  machine: Machine;
  history: HistoryRecorder;
  attempts: Set<Attempt>;
  abort: () => void;
  /** Set once the outcome is decided (or the engine closes): later task results are ignored. */
  ended: boolean;
  /** Settles when the library run and its event log are finished. */
  finished: Promise<void>;
  done: PromiseWithResolvers<ExecutionRecord>;
}

/** One invocation of a Task state's handler (each retry is a new attempt). */
export interface Attempt {
  spec: TaskSpec;
  number: number;
  token?: string;
  /** Lambda returned; waiting for SendTaskSuccess / SendTaskFailure. */
  waiting: boolean;
  settled: boolean;
  timer?: NodeJS.Timeout;
  result: PromiseWithResolvers<Json>;
}
