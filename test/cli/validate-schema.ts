/**
 * The output of `prokus validate --json`, as the issue specifies it: `file`, `district`,
 * `rows`, `summary`, then the additive keys. Strict, so an unannounced key fails the tests.
 */
import { z } from 'zod';

const Message = z.strictObject({ id: z.string().min(1), en: z.string().min(1) });
/** Exactly the shape the issue specifies; the additive keys after it are named too. */
export const ValidateJson = z.strictObject({
  file: z.string(),
  district: z.string(),
  rows: z.array(
    z.strictObject({
      row: z.number().int().min(2),
      status: z.enum(['accepted', 'warning', 'rejected']),
      errors: z.array(z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]+$/), field: z.string(), message: Message })),
    }),
  ),
  summary: z.strictObject({ accepted: z.number(), warning: z.number(), rejected: z.number() }),
  programYear: z.number(),
  format: z.enum(['csv', 'xlsx']),
  sheetName: z.string().optional(),
  fileWarnings: z.array(z.strictObject({ code: z.string(), field: z.string().optional(), message: Message })),
  notChecked: z.array(z.strictObject({ code: z.string(), message: Message })),
});
export const ValidateErrorJson = z.strictObject({
  error: z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]+$/), message: Message }),
});
