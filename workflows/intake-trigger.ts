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
 * running a function: add such a folder here.
 */

/** Keys whose creation starts no intake (EventBridge wildcards: `*` is any run of characters, `/` included). */
export const NOT_PROPOSALS = ['intake/*', '*.report.csv', '*.report.json', '*/'] as const;

/** The EventBridge pattern for `detail.object.key`. */
export const INTAKE_KEY_PATTERN = [{ 'anything-but': { wildcard: [...NOT_PROPOSALS] } }];

/** EventBridge wildcard matching: `*` matches any characters, `\*` a literal star; the whole value must match. */
export function matchesWildcard(pattern: string, value: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      source += `\\${pattern[++i]}`;
    } else if (c === '*') {
      source += '[\\s\\S]*';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`).test(value);
}

/** Whether writing this key starts an intake (the rule above, as EventBridge applies it). */
export function startsIntake(key: string): boolean {
  return !NOT_PROPOSALS.some((pattern) => matchesWildcard(pattern, key));
}
