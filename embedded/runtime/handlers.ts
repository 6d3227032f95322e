/**
 * The handler modules the runtime loads from functions/ (the same files the CDK app deploys),
 * their local ARNs, and the ASL substitutions naming them. Its own file: loading them is its own step.
 */
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { WORKFLOW_FUNCTION_IDS, WORKFLOW_FUNCTIONS, type WorkflowFunctionId } from '../../workflows/functions.ts';
import { lambdaContext } from '../local/pages-server.ts';
import { LOCAL_REGION } from '../local/ports.ts';
import type { LambdaHandler } from '../stepfunctions/engine.ts';
import { LOCAL_ACCOUNT } from './environment.ts';

export type FunctionId = WorkflowFunctionId;
const moduleName = (id: FunctionId) => WORKFLOW_FUNCTIONS[id].file.replace(/\.ts$/, '');

export const functionArn = (id: FunctionId) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:prokus-${moduleName(id)}`;

/** The repository: handler modules and ASL files are found from here. */
export const root = new URL('../..', import.meta.url);

const HandlerModule = z.object({
  handler: z.custom<(event: unknown, context: Context) => Promise<unknown>>((v) => typeof v === 'function', {
    message: 'exports no `handler` function',
  }),
});

export async function importHandler(file: string): Promise<(event: unknown, context: Context) => Promise<unknown>> {
  let mod: unknown;
  try {
    mod = await import(new URL(file, root).href);
  } catch (e) {
    throw new Error(`embedded runtime: cannot load handler module ${file}: ${(e as Error).message}`, { cause: e });
  }
  const parsed = HandlerModule.safeParse(mod);
  if (!parsed.success) throw new Error(`embedded runtime: handler module ${file} exports no \`handler\` function`);
  return parsed.data.handler;
}

/**
 * Lambda, when one execution environment runs invocations concurrently (managed
 * instances), runs each inside its own InvokeStore context, and Powertools keeps there
 * what belongs to one invocation: the keys on its log lines (the case id), its Lambda
 * context, the metrics it counted. The engine runs many handlers at once in this
 * process, so it does the same; otherwise one family's case id lands on another's lines.
 * Called before this process makes any SDK call (the SDK creates the store on its first).
 */
export async function invocationScope() {
  // Only its presence is read: it selects the concurrent store.
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '32';
  const store = await InvokeStore.getInstanceAsync(true);
  return <E, C extends { awsRequestId: string }, R>(handler: (event: E, ctx: C) => Promise<R>) =>
    (event: E, ctx: C): Promise<R> =>
      store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: ctx.awsRequestId }, () => handler(event, ctx));
}
export type InvocationScope = Awaited<ReturnType<typeof invocationScope>>;

export async function loadFunctions(
  scoped: InvocationScope,
  overrides: Partial<Record<FunctionId, LambdaHandler>> = {},
): Promise<Map<FunctionId, LambdaHandler>> {
  const loaded = new Map<FunctionId, LambdaHandler>();
  for (const id of WORKFLOW_FUNCTION_IDS) {
    const override = overrides[id];
    if (override) {
      loaded.set(id, scoped(override));
      continue;
    }
    const handler = await importHandler(`functions/${WORKFLOW_FUNCTIONS[id].file}`);
    // The engine's context has what its tasks need; handlers are typed for the full Lambda one.
    loaded.set(
      id,
      scoped((event, ctx) => handler(event, lambdaContext(ctx.functionName, ctx.getRemainingTimeInMillis(), ctx.awsRequestId))),
    );
  }
  return loaded;
}

export function substitutions(journeyArn?: string): Record<string, string> {
  const subs: Record<string, string> = {};
  for (const id of WORKFLOW_FUNCTION_IDS) subs[`${id}FunctionArn`] = functionArn(id);
  if (journeyArn) subs.JourneyStateMachineArn = journeyArn;
  return subs;
}
