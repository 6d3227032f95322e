/**
 * Prepares an ASL definition from workflows/ for aws-local-stepfunctions. The files
 * stay exactly what CDK deploys; the embedded-only adaptations happen here, on a copy:
 *
 * 1. `${Name}` placeholders are replaced the way CDK `definitionSubstitutions` does.
 * 2. Distributed Map states (`ItemReader`) become a reader Task placed before an INLINE
 *    Map (see `rewriteItemReaders`): the library has no ItemReader / ItemBatcher /
 *    ResultWriter.
 * 3. `TimeoutSecondsPath` is resolved by the library against the task's *processed*
 *    input (after Parameters) instead of the state input, so the path is copied into
 *    Parameters under a reserved key the engine strips before calling anything.
 * 4. Every Task is classified so the engine can install a local handler for it (the
 *    library would otherwise call real AWS Lambda); unsupported resources are refused.
 *
 * Everything refused is refused at registration, with the state's name, so a
 * definition that cannot run locally never starts.
 *
 * Near 400 lines and one file: one pass over a definition, each adaptation beside the others.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

/** Parameters key carrying the resolved TimeoutSecondsPath value into the task handler. */
export const TIMEOUT_KEY = '__embeddedTimeoutSeconds';
/** Where the reader Task of a rewritten Distributed Map stores the items for the Map. */
export const ITEMS_KEY = '__embeddedItems';
/** Parameters key carrying the resolved ItemBatcher.BatchInput into the reader. */
export const BATCH_INPUT_KEY = '__embeddedBatchInput';
/** The Pass state a redriven run starts with: it hands the failed state its input (redrive.ts). */
export const REDRIVE_STATE = 'Embedded.Redrive';
/** The library's timeout for a Task without TimeoutSeconds(Path). */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 60;
/** setTimeout overflows (and fires at once) above 2^31-1 ms. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
export const START_EXECUTION = 'arn:aws:states:::states:startExecution';
export const S3_GET_OBJECT = 'arn:aws:states:::s3:getObject';
/** Resource of the generated state that drops the items again after the Map. */
export const RELEASE_ITEMS = 'arn:aws:states:::embedded:releaseItems';

export type TaskKind = 'lambda' | 'lambda-wait' | 'lambda-arn' | 'start-execution' | 'item-reader' | 'release-items';

export type TaskTimeout = { from: 'literal'; seconds: number } | { from: 'input' } | { from: 'default' };

export interface TaskSpec {
  stateName: string;
  kind: TaskKind;
  resource: string;
  timeout: TaskTimeout;
  /** Reader tasks: ReaderConfig.MaxItems and ItemBatcher.MaxItemsPerBatch. */
  maxItems?: number;
  maxItemsPerBatch?: number;
  /**
   * Lambda tasks: the engine, not the library, enforces the timeout, from the moment the
   * function starts running (see `engineTimed` in adaptTask). The library is given 24.8 days.
   */
  engineTimed?: boolean;
}

export interface PreparedMachine {
  /** The definition after substitution, as DescribeStateMachine shows it. */
  definition: JsonObject;
  /** The rewritten definition the library runs. */
  runnable: StateMachineDefinition;
  tasks: Map<string, TaskSpec>;
  /** States with a Retry field (for retry interval overrides in tests). */
  retryStates: string[];
}

export class DefinitionError extends Error {
  override readonly name = 'InvalidDefinition';
}

/** CDK-style `${Name}` substitution; every placeholder must have a value. */
export function substitute(aslText: string, substitutions: Record<string, string>): string {
  const missing = new Set<string>();
  const text = aslText.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const value = substitutions[name];
    if (value === undefined) {
      missing.add(name);
      return whole;
    }
    return value;
  });
  if (missing.size > 0) throw new DefinitionError(`no substitution for ${[...missing].map((m) => `\${${m}}`).join(', ')}`);
  return text;
}

export function prepareStateMachine(aslText: string, substitutions: Record<string, string>): PreparedMachine {
  let definition: JsonObject;
  try {
    const parsed: unknown = JSON.parse(substitute(aslText, substitutions));
    if (!isObject(parsed)) throw new DefinitionError('the definition is not a JSON object');
    definition = parsed;
  } catch (e) {
    if (e instanceof DefinitionError) throw e;
    throw new DefinitionError(`the definition is not valid JSON: ${(e as Error).message}`);
  }
  refuseJsonata(definition);
  validate(definition);
  const runnable = structuredClone(definition);
  const tasks = new Map<string, TaskSpec>();
  const retryStates: string[] = [];
  const seen = new Set<string>();
  walkMachine(runnable, (states, machine) => {
    rewriteItemReaders(states, machine);
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state)) continue;
      if (seen.has(name)) {
        throw new DefinitionError(`state name ${name} is used twice; the embedded engine keys task handlers by state name`);
      }
      seen.add(name);
      if (name === REDRIVE_STATE) throw new DefinitionError(`state name ${name} is reserved by the embedded engine`);
      if (Array.isArray(state.Retry)) retryStates.push(name);
      if (state.Type === 'Task') tasks.set(name, adaptTask(name, state));
    }
  });
  return { definition, runnable: runnable as unknown as StateMachineDefinition, tasks, retryStates };
}

/** Definitions already validated in this process (asl-validator takes about a second each time). */
const validated = new Map<string, string | undefined>();

/** The library's validator (asl-validator) on the definition as written. */
function validate(definition: JsonObject): void {
  const text = JSON.stringify(definition);
  if (!validated.has(text)) {
    try {
      // On a copy: the validator writes QueryLanguage into every state it checks.
      new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition);
      validated.set(text, undefined);
    } catch (e) {
      validated.set(text, (e as Error).message);
    }
  }
  const problem = validated.get(text);
  if (problem !== undefined) throw new DefinitionError(problem);
}

/**
 * Rewrites every Map state with an `ItemReader` in one `States` object (in place):
 *
 *   X (Map, ItemReader)  →  X.ReadItems (Task) → X (Map, INLINE) → X.ReleaseItems (Task)
 *
 * - `X.ReadItems` resolves `ItemReader.Parameters` against the state input (the library
 *   does that for Parameters), reads the items through the engine's `readItems(bucket,
 *   key)`, applies `ReaderConfig.MaxItems` and `ItemBatcher`, and stores them at
 *   `$.__embeddedItems`. It carries the Map's Retry and Catch, because on AWS a failed
 *   read fails the Map (`States.ItemReaderFailed`).
 * - With `ItemBatcher`, each iteration gets what an AWS child execution gets: a batch
 *   `{ "Items": [at most MaxItemsPerBatch items, in list order], "BatchInput": {…} }`,
 *   `BatchInput` resolved once against the Map's input (its `.$` paths, like Parameters)
 *   and present only when the definition has one. `MaxInputBytesPerBatch(Path)` and an
 *   `ItemSelector` next to `ItemBatcher` are refused: the first is a byte budget the
 *   engine does not measure, the second is applied per item before batching on AWS.
 * - `ResultWriter` is dropped: the embedded runtime has no Map Run to export, and the
 *   Map's own result (an array of the iterations' outputs) goes where ResultPath says.
 * - `X` keeps its name, ItemProcessor (mode set to INLINE), ItemSelector,
 *   MaxConcurrency, ResultSelector, ResultPath, Retry and Catch; its ItemsPath becomes
 *   `$.__embeddedItems`. ItemBatcher, ResultWriter, ToleratedFailure* and Label are
 *   dropped: an inline Map fails on the first failed item (what a tolerance of 0 means).
 * - `X.ReleaseItems` removes `__embeddedItems` again, then applies the Map's OutputPath
 *   and goes to the Map's Next (or ends). Each catcher of the Map gets its own release
 *   state (`X.ReleaseItems.Catch<i>`) in front of its Next, so the list never flows on.
 *
 * Transitions into `X` (StartAt, Next, Default, Choices, Catch) are redirected to
 * `X.ReadItems`. A Map with InputPath or ItemsPath next to ItemReader, or an ItemReader
 * other than `s3:getObject`, is refused.
 */
export function rewriteItemReaders(states: JsonObject, machine?: JsonObject): void {
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state) || state.Type !== 'Map' || !isObject(state.ItemReader)) continue;
    const reader = state.ItemReader;
    if (reader.Resource !== S3_GET_OBJECT) {
      throw new DefinitionError(`Map ${name}: the embedded engine reads items with ${S3_GET_OBJECT} only`);
    }
    if ('InputPath' in state || 'ItemsPath' in state) {
      throw new DefinitionError(`Map ${name}: InputPath/ItemsPath next to ItemReader is not supported by the embedded engine`);
    }
    const readerConfig = isObject(reader.ReaderConfig) ? reader.ReaderConfig : {};
    const batcher = isObject(state.ItemBatcher) ? state.ItemBatcher : undefined;
    if ('MaxItemsPath' in readerConfig || (batcher && 'MaxItemsPerBatchPath' in batcher)) {
      throw new DefinitionError(`Map ${name}: MaxItemsPath / MaxItemsPerBatchPath are not supported by the embedded engine`);
    }
    if (batcher && ('MaxInputBytesPerBatch' in batcher || 'MaxInputBytesPerBatchPath' in batcher)) {
      throw new DefinitionError(`Map ${name}: ItemBatcher.MaxInputBytesPerBatch is not supported by the embedded engine`);
    }
    if (batcher && ('ItemSelector' in state || 'Parameters' in state)) {
      throw new DefinitionError(`Map ${name}: ItemSelector next to ItemBatcher is not supported by the embedded engine`);
    }
    const readName = `${name}.ReadItems`;
    const releaseName = `${name}.ReleaseItems`;
    for (const generated of [readName, releaseName]) {
      if (generated in states) throw new DefinitionError(`state name ${generated} is reserved by the embedded engine`);
    }

    const parameters: JsonObject = isObject(reader.Parameters) ? { ...reader.Parameters } : {};
    if (batcher && isObject(batcher.BatchInput)) parameters[BATCH_INPUT_KEY] = batcher.BatchInput;
    const readTask: JsonObject = {
      Type: 'Task',
      Comment: `Embedded runtime: reads the items of the Distributed Map ${name} (ItemReader).`,
      Resource: S3_GET_OBJECT,
      Parameters: parameters,
      ResultPath: `$.${ITEMS_KEY}`,
      TimeoutSeconds: 900,
      Next: name,
    };
    if (typeof readerConfig.MaxItems === 'number') readTask.MaxItems = readerConfig.MaxItems;
    // 0: batched, with no item limit (AWS would then cut batches at 256 KiB).
    if (batcher) readTask.MaxItemsPerBatch = typeof batcher.MaxItemsPerBatch === 'number' ? batcher.MaxItemsPerBatch : 0;
    if (Array.isArray(state.Retry)) readTask.Retry = structuredClone(state.Retry);

    const release = (next: Json | undefined, outputPath: Json | undefined): JsonObject => {
      const task: JsonObject = {
        Type: 'Task',
        Comment: `Embedded runtime: drops the items of ${name} read by ${readName}.`,
        Resource: RELEASE_ITEMS,
        TimeoutSeconds: 60,
      };
      if (outputPath !== undefined) task.OutputPath = outputPath;
      if (typeof next === 'string') task.Next = next;
      else task.End = true;
      return task;
    };

    const map: JsonObject = { ...state };
    for (const key of ['ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailurePercentage', 'ToleratedFailureCount']) {
      delete map[key];
    }
    delete map.ToleratedFailurePercentagePath;
    delete map.ToleratedFailureCountPath;
    delete map.Label;
    delete map.End;
    delete map.OutputPath;
    map.ItemsPath = `$.${ITEMS_KEY}`;
    const processor = isObject(map.ItemProcessor) ? { ...map.ItemProcessor } : undefined;
    if (processor) {
      processor.ProcessorConfig = { Mode: 'INLINE' };
      map.ItemProcessor = processor;
    }
    map.Next = releaseName;

    const generated: Record<string, JsonObject> = {
      [readName]: readTask,
      [releaseName]: release(state.Next, state.OutputPath),
    };
    if (Array.isArray(state.Catch)) {
      const mapCatch: Json[] = [];
      state.Catch.forEach((catcher, i) => {
        if (!isObject(catcher)) return;
        const catchRelease = `${releaseName}.Catch${i}`;
        if (catchRelease in states) throw new DefinitionError(`state name ${catchRelease} is reserved by the embedded engine`);
        generated[catchRelease] = release(catcher.Next, undefined);
        mapCatch.push({ ...catcher, Next: catchRelease });
      });
      map.Catch = mapCatch;
      readTask.Catch = structuredClone(mapCatch);
    }

    redirect(states, name, readName, machine);
    states[name] = map;
    Object.assign(states, generated);
  }
}

/** Points every transition to `from` in one States object (and StartAt of its machine) at `to`. */
function redirect(states: JsonObject, from: string, to: string, machine?: JsonObject): void {
  if (machine && machine.StartAt === from) machine.StartAt = to;
  for (const state of Object.values(states)) {
    if (!isObject(state)) continue;
    if (state.Next === from) state.Next = to;
    if (state.Default === from) state.Default = to;
    for (const list of [state.Choices, state.Catch]) {
      if (!Array.isArray(list)) continue;
      for (const rule of list) if (isObject(rule) && rule.Next === from) rule.Next = to;
    }
  }
}

function adaptTask(name: string, state: JsonObject): TaskSpec {
  const resource = typeof state.Resource === 'string' ? state.Resource : '';
  const kind = classify(resource);
  if (!kind) {
    throw new DefinitionError(
      `Task ${name}: resource ${resource} is not supported by the embedded engine ` +
        `(it runs ${LAMBDA_INVOKE}, ${LAMBDA_INVOKE_WAIT}, ${START_EXECUTION} and Lambda function ARNs)`,
    );
  }
  const spec: TaskSpec = { stateName: name, kind, resource, timeout: { from: 'default' } };
  if (typeof state.MaxItems === 'number') spec.maxItems = state.MaxItems;
  if (typeof state.MaxItemsPerBatch === 'number') spec.maxItemsPerBatch = state.MaxItemsPerBatch;
  delete state.MaxItems;
  delete state.MaxItemsPerBatch;

  if (typeof state.TimeoutSeconds === 'number') {
    if (!Number.isInteger(state.TimeoutSeconds) || state.TimeoutSeconds < 1 || state.TimeoutSeconds > MAX_TIMEOUT_SECONDS) {
      throw new DefinitionError(
        `Task ${name}: TimeoutSeconds ${state.TimeoutSeconds} is outside 1..${MAX_TIMEOUT_SECONDS} (24.8 days), the most the embedded engine can wait`,
      );
    }
    spec.timeout = { from: 'literal', seconds: state.TimeoutSeconds };
  } else if (typeof state.TimeoutSecondsPath === 'string') {
    if (!isObject(state.Parameters)) {
      throw new DefinitionError(`Task ${name}: TimeoutSecondsPath needs Parameters in the embedded engine`);
    }
    state.Parameters = { ...state.Parameters, [`${TIMEOUT_KEY}.$`]: state.TimeoutSecondsPath };
    state.TimeoutSecondsPath = `$.${TIMEOUT_KEY}`;
    spec.timeout = { from: 'input' };
  }
  if (engineTimed(kind, state)) {
    // The engine runs a bounded number of functions at once, like Lambda's concurrency
    // limit; a task waiting for a free slot must not time out before its function even
    // starts. The library reads its timeout from the processed input: the engine puts
    // 24.8 days there and keeps the real timeout itself, from the function's start.
    delete state.TimeoutSeconds;
    state.TimeoutSecondsPath = `$.${TIMEOUT_KEY}`;
    spec.engineTimed = true;
  }
  return spec;
}

/**
 * Lambda tasks with Parameters (the processed input is then an object of the engine's
 * own), except where a Retry or Catch names States.TaskFailed: the library keeps its own
 * timeout there, the only one that wildcard does not match.
 */
function engineTimed(kind: TaskKind, state: JsonObject): boolean {
  if (kind !== 'lambda' && kind !== 'lambda-wait') return false;
  if (!isObject(state.Parameters)) return false;
  const names = [state.Retry, state.Catch].flatMap((list) =>
    Array.isArray(list)
      ? list.flatMap((rule) => (isObject(rule) && Array.isArray(rule.ErrorEquals) ? rule.ErrorEquals : []))
      : [],
  );
  return !names.includes('States.TaskFailed');
}

function classify(resource: string): TaskKind | undefined {
  switch (resource) {
    case LAMBDA_INVOKE:
      return 'lambda';
    case LAMBDA_INVOKE_WAIT:
      return 'lambda-wait';
    case START_EXECUTION:
      return 'start-execution';
    case S3_GET_OBJECT:
      return 'item-reader';
    case RELEASE_ITEMS:
      return 'release-items';
  }
  if (/^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(resource)) return 'lambda-arn';
  return undefined;
}

/** Calls `visit` with every States object, the machine's own and those of nested Map and Parallel states. */
function walkMachine(machine: JsonObject, visit: (states: JsonObject, machine: JsonObject) => void): void {
  const states = machine.States;
  if (!isObject(states)) return;
  visit(states, machine);
  for (const state of Object.values(states)) {
    if (!isObject(state)) continue;
    for (const nested of [state.ItemProcessor, state.Iterator]) if (isObject(nested)) walkMachine(nested, visit);
    if (Array.isArray(state.Branches)) for (const branch of state.Branches) if (isObject(branch)) walkMachine(branch, visit);
  }
}

/** The library silently ignores JSONata and variables; a definition relying on them must not run half-right. */
function refuseJsonata(node: Json, path = '$'): void {
  if (Array.isArray(node)) {
    node.forEach((child, i) => {
      refuseJsonata(child, `${path}[${i}]`);
    });
    return;
  }
  if (!isObject(node)) return;
  if (node.QueryLanguage === 'JSONata') throw new DefinitionError(`${path}: JSONata is not supported by the embedded engine`);
  if (isObject(node.States)) {
    for (const [name, state] of Object.entries(node.States)) {
      if (!isObject(state)) continue;
      for (const field of ['Assign', 'Arguments', 'Output', 'QueryLanguage']) {
        if (field in state)
          throw new DefinitionError(`state ${name}: ${field} is not supported by the embedded engine (JSONPath only)`);
      }
      refuseJsonata(state, `${path}.States.${name}`);
    }
    return;
  }
  for (const [key, child] of Object.entries(node)) if (typeof child === 'object') refuseJsonata(child, `${path}.${key}`);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
