/**
 * zod for everything under functions/: `zod/mini`, the same validation as zod's classic
 * API behind plain functions that a bundler can drop when unused (about 20 KB of a Lambda
 * bundle instead of 450 KB: the classic `z` object drags in every method and every locale).
 * Import it as `import * as z from '#domain/zod'` (`./zod.ts` inside domain/).
 *
 * Two things the classic API did and mini does not, set here so nothing changes for
 * whoever reads a validation error:
 * - English issue messages ("Invalid input: expected string, received undefined"): classic
 *   loads the `en` locale at import; mini ships none and says only "Invalid input".
 * - `z.parse(schema, value)` throws an Error named `ZodError`, as classic's `.parse()` did:
 *   that name is the error type Step Functions and RecordFailure see. (A mini schema's own
 *   `.parse()` method throws `$ZodError`; use `z.parse`.)
 */
import { en } from 'zod/locales';
import * as mini from 'zod/mini';
// Not `mini.core.$ZodError`: reading the `core` namespace as an object keeps all of it, every locale too.
import { $ZodError } from 'zod/v4/core';

mini.config(en());

export * from 'zod/mini';

/** Parses or throws an Error named `ZodError` (message: the issues as JSON, as classic zod). */
export function parse<S extends mini.ZodMiniType>(schema: S, value: unknown): mini.output<S> {
  try {
    return mini.parse(schema, value);
  } catch (e) {
    if (e instanceof $ZodError) e.name = 'ZodError';
    throw e;
  }
}
