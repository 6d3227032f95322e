/**
 * Which objects written to the bucket start an intake. The CDK app's EventBridge rule
 * and the embedded runtime's s3rver events both use this one definition, so a file that
 * starts an intake on AWS starts one on this machine too.
 *
 * Intake writes into the same bucket: the reports next to each upload
 * (`<upload>.report.csv`, `.report.json`) and everything under `intake/` (the journeys
 * lists, the Distributed Map's results). Their own events must not start intakes.
 * EventBridge cannot AND two conditions on one field (a `prefix` of `proposals/` and an
 * `anything-but` suffix: values in a field's list are ORed, and `$or` only ORs), so the
 * rule names what is NOT a proposal, in one `anything-but` wildcard list. A key outside
 * `proposals/` that is not in the list (a new folder someone adds to the bucket) starts
 * an intake that ends at once in `NotAProposal` (workflows/intake.asl.json), without
 * running a function: add such a folder to functions/intake/bucket-layout.ts.
 */
import { isIntakeOutput, matchesWildcard, NOT_PROPOSAL_WILDCARDS } from '#intake/bucket-layout';

/** Keys whose creation starts no intake (EventBridge wildcards: `*` is any run of characters, `/` included). */
export const NOT_PROPOSALS = NOT_PROPOSAL_WILDCARDS;

/** The EventBridge pattern for `detail.object.key`. */
export const INTAKE_KEY_PATTERN = [{ 'anything-but': { wildcard: [...NOT_PROPOSALS] } }];

export { matchesWildcard };

/** Whether writing this key starts an intake (the rule above, as EventBridge applies it). */
export function startsIntake(key: string): boolean {
  return !isIntakeOutput(key);
}
