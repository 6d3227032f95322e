/**
 * The shape every task handler shares: middy, the program secret loaded once per cold
 * start, the event parsed with zod at the edge. Handlers throw named errors; they never
 * return error objects, so the state machines' Retry/Catch see them.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import { logger } from './logger.ts';
import { loadKeys } from './secrets.ts';

/**
 * The event, parsed. A bad event throws an Error named `ZodError`, as zod's classic
 * `.parse()` did: that is the error type the state machine records (the same rule as
 * `z.parse` in functions/domain/zod.ts, which lib/ does not import).
 */
function parseEvent<S extends z.ZodMiniType>(input: S, event: unknown): z.output<S> {
  try {
    return z.parse(input, event);
  } catch (e) {
    if (e instanceof $ZodError) e.name = 'ZodError';
    throw e;
  }
}

export function taskHandler<S extends z.ZodMiniType, R>(name: string, input: S, fn: (event: z.infer<S>) => Promise<R>) {
  return middy<unknown, R, Error, Context>()
    .before(async () => {
      await loadKeys();
    })
    .onError(async (request) => {
      const error = request.error;
      logger.warn({ handler: name, error: error?.name, message: error?.message }, 'task failed');
    })
    .handler(async (event) => fn(parseEvent(input, event)));
}
