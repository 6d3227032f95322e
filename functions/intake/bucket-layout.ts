/**
 * Where files live in the bucket, named once. The EventBridge rule
 * (workflows/intake-trigger.ts), the intake's first state `IsProposalFile`
 * (workflows/intake.asl.json, checked against this module by test/workflows/intake.test.ts),
 * ReadProposal and the embedded runtime all ask this module what a key is.
 *
 *   proposals/<district>/<file>         an officer's upload
 *   <upload>.report.csv, .report.json   intake's report, next to the upload
 *   intake/<uploadId>/journeys.json     the list the Distributed Map starts journeys from
 *   intake/start-journeys/<map run>/    the Map Run's results (AWS only)
 *   checks/<district>/<checkId>/<file>  a file the upload page checks before the officer
 *                                       submits it (copied to proposals/ on submit); starts nothing
 */

export const PROPOSALS_PREFIX = 'proposals/';
export const INTAKE_PREFIX = 'intake/';
export const CHECKS_PREFIX = 'checks/';
export const REPORT_SUFFIXES = ['.report.csv', '.report.json'] as const;

/** Where StartJourneys' ResultWriter leaves the Map Run's results. */
export const START_JOURNEYS_RESULTS = `${INTAKE_PREFIX}start-journeys/`;

/**
 * Keys intake writes itself, files waiting for their check, and folder markers, as
 * wildcards (`*` is any run of characters, `/` included): EventBridge's `anything-but`
 * list and the ASL's `StringMatches` both take this form.
 */
export const NOT_PROPOSAL_WILDCARDS = [
  `${INTAKE_PREFIX}*`,
  `${CHECKS_PREFIX}*`,
  ...REPORT_SUFFIXES.map((s) => `*${s}`),
  '*/',
] as const;

/** The wildcard every upload's key matches. */
export const PROPOSAL_WILDCARD = `${PROPOSALS_PREFIX}*`;

export const proposalKey = (district: string, fileName: string) => `${PROPOSALS_PREFIX}${district}/${fileName}`;

/** Where the upload page puts a file for its check: one folder per check, so the key names its district and check. */
export const checkKey = (district: string, checkId: string, fileName: string) =>
  `${CHECKS_PREFIX}${district}/${checkId}/${fileName}`;

/** Every file waiting for its check, as an IAM resource wildcard and a lifecycle rule's prefix. */
export const CHECKS = `${CHECKS_PREFIX}*`;

export const reportKeys = (uploadKey: string) => ({ csv: `${uploadKey}.report.csv`, json: `${uploadKey}.report.json` });

export const journeysKey = (uploadId: string) => `${INTAKE_PREFIX}${uploadId}/journeys.json`;

/** Every upload's journeys list, as an IAM resource wildcard. */
export const JOURNEYS_LISTS = journeysKey('*');

/** The files ReadProposal writes, as IAM resource wildcards: the reports next to each upload and the journeys lists. */
export const INTAKE_OUTPUTS = [...REPORT_SUFFIXES.map((s) => `${PROPOSAL_WILDCARD}${s}`), JOURNEYS_LISTS] as const;

/** A file name an officer may give an upload: one path segment, and not one intake would take for its own report. */
export function isUploadName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && !REPORT_SUFFIXES.some((s) => name.endsWith(s));
}

/** Wildcard matching as EventBridge and Step Functions do it: `*` matches any characters, `\*` a literal star; the whole value must match. */
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

/** Keys that start no intake: what intake writes itself (reports, anything under intake/), files waiting for their check, folder markers. */
export function isIntakeOutput(key: string): boolean {
  return NOT_PROPOSAL_WILDCARDS.some((pattern) => matchesWildcard(pattern, key));
}

/** An officer's upload: under proposals/, and not a file intake wrote or a folder marker. */
export function isProposalKey(key: string): boolean {
  return matchesWildcard(PROPOSAL_WILDCARD, key) && !isIntakeOutput(key);
}
