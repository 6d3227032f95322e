/**
 * The error an AWS API answers with (`__type`, HTTP status) and request validation that raises it.
 * Its own file so the server and the service files share it without importing one another.
 */
import type { z } from 'zod';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The request body as the schema reads it; else ValidationException (InvalidArn for a malformed ARN), like the service. */
export function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || 'body';
  const invalidArn = issue?.code === 'custom' && (issue.params as { invalidArn?: boolean } | undefined)?.invalidArn;
  throw new ApiError(invalidArn ? 'InvalidArn' : 'ValidationException', `${where}: ${issue?.message ?? 'invalid request'}`);
}
