/** What the PKH graduation registry says about one family, keyed by the NIK's keyed hash. */
import * as z from './zod.ts';

export const RegistryEntry = z.object({
  nikHash: z.string(),
  /** Date the family graduated from PKH, or absent when it has not. */
  graduatedOn: z.optional(z.string()),
  decile: z.int().check(z.gte(1), z.lte(10)),
  /** Program year of an earlier Prokus grant, if any. */
  previousGrantYear: z.optional(z.int()),
  importedAt: z.string(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;
