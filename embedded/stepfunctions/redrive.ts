/**
 * RedriveExecution's rules: which executions may run again (`redriveStatus`), where the run
 * resumes (`redrivePoint`, read from the history) and the definition that resumes there
 * (`redriveDefinition`). Its own file: the rules of a redrive, apart from the engine that
 * applies them.
 *
 * The service continues the same execution from the state that did not finish, with the
 * input that state was entered with, and does not run again the states that succeeded. The
 * library cannot resume a run half-way, so a redrive starts a new library run of the same
 * definition whose first state is a generated Pass (`REDRIVE_STATE`, left out of the
 * history) handing that input to the unfinished top-level state. The run's input stays
 * the execution's, so `$$.Execution.Input` is what it was.
 *
 * One difference from the service: when the unfinished state is a Map or a Parallel, the
 * service re-runs only the iterations and branches that failed (and, for a Distributed Map,
 * only the unsuccessful child executions of its Map Run); here the whole top-level state
 * runs again, every iteration and branch. A Distributed Map, which runs inline here
 * (asl-rewrite.ts), runs again from its reader (`<Map>.ReadItems`): the items it read are
 * not in the history. States inside a Map or Parallel must therefore be safe to repeat
 * (ours are: a journey already started is `AlreadyStarted`).
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { isObject, type Json, type JsonObject, type PreparedMachine, REDRIVE_STATE } from './asl-rewrite.ts';
import type { ExecutionRecord } from './execution-store.ts';
import type { HistoryEvent } from './history.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** An execution may be redriven within 14 days of its stop. */
export const REDRIVABLE_PERIOD_MS = 14 * DAY_MS;
/** A Standard execution stays open at most a year, redrives included. */
const MAX_OPEN_MS = 365 * DAY_MS;
/** The service's hard limit of redrives per execution. */
const MAX_REDRIVES = 1000;
/** The same clientToken gets the same answer for 15 minutes, for the last 10 tokens. */
export const CLIENT_TOKEN_MS = 15 * 60 * 1000;
export const CLIENT_TOKENS_KEPT = 10;

/**
 * DescribeExecution's `redriveStatus`. `REDRIVABLE_BY_MAP_RUN` is for the child executions
 * of a Distributed Map's Map Run; the embedded engine runs those Maps inline, without child
 * executions, so no execution here has it.
 */
export type RedriveStatus = 'REDRIVABLE' | 'NOT_REDRIVABLE' | 'REDRIVABLE_BY_MAP_RUN';

/**
 * Whether RedriveExecution would run the execution again now, and if not why, in the
 * service's words. The service's limit of 25,000 history events is not applied: it is not
 * enforced here at all (an inline Map writes every iteration's events into its parent's
 * history, where on AWS they go to the Map Run's child executions), so a large intake that
 * fits on AWS stays redrivable here too.
 */
export function redriveStatus(
  record: ExecutionRecord,
  now: Date,
): { redriveStatus: RedriveStatus; redriveStatusReason?: string } {
  const not = (redriveStatusReason: string) => ({ redriveStatus: 'NOT_REDRIVABLE' as const, redriveStatusReason });
  if (record.status === 'RUNNING') return not('Execution is RUNNING and cannot be redriven');
  if (record.status === 'SUCCEEDED') return not('Execution is SUCCEEDED and cannot be redriven');
  if (now.getTime() - record.startDate.getTime() > MAX_OPEN_MS) return not('Execution has exceeded the max execution time');
  const stop = record.stopDate ?? record.startDate;
  if (now.getTime() - stop.getTime() > REDRIVABLE_PERIOD_MS) return not('Execution redrivable period exceeded');
  if ((record.redriveCount ?? 0) >= MAX_REDRIVES) return not('Execution redrive count limit exceeded');
  return { redriveStatus: 'REDRIVABLE' };
}

/** Where a redriven run resumes: the top-level state to enter, and its input. */
export interface RedrivePoint {
  stateName: string;
  input: Json;
}

/** The history of one execution, read by position (`from` inclusive, `to` exclusive). */
export interface HistoryReader {
  count: number;
  read(from: number, to: number): HistoryEvent[];
}

const PAGE = 1000;

/**
 * The top-level state the last run left unfinished (entered, never exited: the state that
 * failed, timed out or was running when the execution stopped), with the input it was
 * entered with. A state caught by a Catch did exit (towards its catcher's Next): the state
 * that failed the execution is then the one the catcher led to, a Fail state for instance,
 * and that is what runs again, as on AWS. If the run stopped between two states, it
 * resumes at the next one with the output of the last; if it stopped before entering any,
 * at StartAt with the execution's input.
 */
export function redrivePoint(prepared: PreparedMachine, history: HistoryReader, executionInput: Json): RedrivePoint {
  const machine = prepared.runnable as unknown as JsonObject;
  const states = isObject(machine.States) ? machine.States : {};
  let position = history.count;
  let page: HistoryEvent[] = [];
  let pageFrom = position;
  /** The previous event (backwards), or undefined at the start of the history. */
  const previous = (): HistoryEvent | undefined => {
    if (position === 0) return undefined;
    position -= 1;
    if (position < pageFrom) {
      pageFrom = Math.max(0, position + 1 - PAGE);
      page = history.read(pageFrom, position + 1);
    }
    return page[position - pageFrom];
  };
  /** The input of the last time `name` was entered, searching back from here. */
  const enteredInput = (name: string): Json | undefined => {
    for (let e = previous(); e; e = previous()) {
      const entered = e.stateEnteredEventDetails;
      if (entered?.name === name) return parse(entered.input);
    }
    return undefined;
  };
  /** A rewritten Distributed Map runs again from its reader: its own input held the items. */
  const resumeAt = (name: string, input: Json | undefined): RedrivePoint | undefined => {
    const reader = `${name}.ReadItems`;
    if (prepared.tasks.get(reader)?.kind === 'item-reader') {
      const readerInput = enteredInput(reader);
      return readerInput === undefined ? undefined : { stateName: reader, input: readerInput };
    }
    return input === undefined ? undefined : { stateName: name, input };
  };

  for (let e = previous(); e; e = previous()) {
    const entered = e.stateEnteredEventDetails;
    if (entered?.name !== undefined && entered.name in states) {
      const point = resumeAt(entered.name, parse(entered.input));
      if (point) return point;
      break;
    }
    const exited = e.stateExitedEventDetails;
    if (exited?.name !== undefined && exited.name in states) {
      const state = states[exited.name];
      const next = isObject(state) && state.Type !== 'Choice' && typeof state.Next === 'string' ? state.Next : undefined;
      // A Choice decides its next state from its input: it is run again (it has no effects).
      const point = next === undefined ? resumeAt(exited.name, enteredInput(exited.name)) : resumeAt(next, parse(exited.output));
      if (point) return point;
      break;
    }
  }
  return { stateName: String(machine.StartAt), input: executionInput };
}

/** The machine's definition, entered at `point` through the generated Pass state. */
export function redriveDefinition(prepared: PreparedMachine, point: RedrivePoint): StateMachineDefinition {
  const machine = prepared.runnable as unknown as JsonObject;
  const states = isObject(machine.States) ? machine.States : {};
  const entry: JsonObject = {
    Type: 'Pass',
    Comment: 'Embedded runtime: RedriveExecution resumes here, with the input the unfinished state was entered with.',
    Result: point.input,
    Next: point.stateName,
  };
  return {
    ...machine,
    StartAt: REDRIVE_STATE,
    States: { ...states, [REDRIVE_STATE]: entry },
  } as unknown as StateMachineDefinition;
}

function parse(text: string | undefined): Json | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}
