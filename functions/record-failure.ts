/**
 * RecordFailure: an unexpected error ends the execution, not the case. The failure is
 * noted on the case for operators; the stage stays, so restarting the journey continues
 * where it stopped.
 */
import { Stage } from '#domain/case';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { logger } from '#lib/logger';
import { updateCase } from '#store/cases';

const Input = z.object({
  caseId: z.string().check(z.minLength(1)),
  error: z._default(z.string(), 'Unknown'),
  cause: z._default(z.string(), ''),
});

export const handler = taskHandler('record-failure', Input, async ({ caseId, error, cause }) => {
  logger.error('journey failed', { error });
  // Causes come from our own error messages, which carry no personal data; cap their size anyway.
  const failure = { error, cause: cause.slice(0, 1000), at: new Date().toISOString() };
  await updateCase(caseId, { expectStage: Stage.options.filter((s) => s !== 'closed'), set: { failure } });
  return { recorded: true };
});
