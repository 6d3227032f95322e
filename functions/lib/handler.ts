/**
 * The shape every task handler shares: middy, the program secret loaded once per cold
 * start, the event parsed with zod at the edge. Handlers throw named errors; they never
 * return error objects, so the state machines' Retry/Catch see them.
 *
 * Around each invocation, Powertools: an X-Ray segment for the handler, the Lambda
 * context on every log line (plus the case id once the input is parsed; both cleared when
 * the invocation ends) and the metrics it counted published as EMF.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import { logger } from './logger.ts';
import { allMetrics, countExpectedTaskError } from './metrics.ts';
import { loadKeys } from './secrets.ts';
import { tracer } from './tracer.ts';

/**
 * The named errors a task throws by design to take the state machine down another path
 * (IneligibleError, DeadlinePassedError, …) say so with `expected: true` (domain/errors.ts).
 */
function isExpected(error: unknown): boolean {
  return (error as { expected?: unknown } | null)?.expected === true;
}

function caseIdOf(input: unknown): string | undefined {
  const caseId = (input as { caseId?: unknown } | null)?.caseId;
  return typeof caseId === 'string' ? caseId : undefined;
}

/**
 * The Powertools middlewares both kinds of handler use, outermost first. Responses stay
 * out of X-Ray: a page or a task result may carry what a trace must not.
 */
export function observed<E, R>() {
  return [
    captureLambdaHandler(tracer, { captureResponse: false }),
    injectLambdaContext(logger, { resetKeys: true }),
    logMetrics(allMetrics),
  ] as unknown as middy.MiddlewareObj<E, R, Error, Context>[];
}

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
    .use(observed<unknown, R>())
    .before(async () => {
      await loadKeys();
    })
    .onError(async (request) => {
      // Runs before the middlewares above end the invocation: the case id is still on the line.
      const error = request.error;
      const fields = { handler: name, error: error?.name, errorMessage: error?.message };
      if (isExpected(error)) {
        countExpectedTaskError(request.context.functionName);
        logger.info('task failed', { ...fields, expected: true });
      } else {
        logger.warn('task failed', fields);
      }
    })
    .handler(async (event) => {
      const parsed = parseEvent(input, event);
      const caseId = caseIdOf(parsed);
      if (caseId) logger.appendKeys({ caseId });
      return fn(parsed);
    });
}
