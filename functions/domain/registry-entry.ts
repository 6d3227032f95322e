/** What the PKH graduation registry says about one family, keyed by the NIK's keyed hash. */
import { z } from 'zod';

export const RegistryEntry = z.object({
  nikHash: z.string(),
  /** Date the family graduated from PKH, or absent when it has not. */
  graduatedOn: z.string().optional(),
  decile: z.number().int().min(1).max(10),
  /** Program year of an earlier Prokus grant, if any. */
  previousGrantYear: z.number().int().optional(),
  importedAt: z.string(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;
