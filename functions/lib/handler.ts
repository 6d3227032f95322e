/**
 * The shape every task handler shares: middy, the program secret loaded once per cold
 * start, the event parsed with zod at the edge. Handlers throw named errors; they never
 * return error objects, so the state machines' Retry/Catch see them.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { logger } from './logger.ts';
import { loadKeys } from './secrets.ts';

export function taskHandler<S extends z.ZodType, R>(name: string, input: S, fn: (event: z.infer<S>) => Promise<R>) {
  return middy<unknown, R, Error, Context>()
    .before(async () => {
      await loadKeys();
    })
    .onError(async (request) => {
      const error = request.error;
      logger.warn({ handler: name, error: error?.name, message: error?.message }, 'task failed');
    })
    .handler(async (event) => fn(input.parse(event)));
}
