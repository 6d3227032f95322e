/**
 * An identity claim: which case first proposed a family (by NIK or by family card),
 * from which upload, district and program year.
 */
import * as z from './zod.ts';

export const Claim = z.object({
  caseId: z.string(),
  district: z.string(),
  programYear: z.number(),
  proposedAt: z.string(),
  uploadId: z.string(),
});
export type Claim = z.infer<typeof Claim>;
