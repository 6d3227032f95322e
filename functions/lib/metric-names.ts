/**
 * The names logs, traces and metrics go by, in one module without dependencies, so the
 * CDK app (Lambda environment, dashboard, alarms) and the handlers cannot drift apart.
 * lib/metrics.ts says why the dimensions are what they are.
 */

/** `service` on every log line, X-Ray segment and metric (POWERTOOLS_SERVICE_NAME). */
export const SERVICE_NAME = 'prokus';

/** The CloudWatch namespace of every Prokus metric (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'Prokus';

export const METRIC = {
  /** A case entered a stage (its first, `verification`, when intake registers it). Dimension `stage`. */
  caseEnteredStage: 'CaseEnteredStage',
  /** A case closed with an outcome. Dimension `outcome`. */
  caseClosed: 'CaseClosed',
  /** Rows of one proposal file registered as families (with or without a warning). */
  proposalRowsAccepted: 'ProposalRowsAccepted',
  /** Rows of one proposal file refused (a failed check, or a NIK or KK already proposed). */
  proposalRowsRejected: 'ProposalRowsRejected',
  /**
   * A task threw one of the named errors that end a journey or an intake by design
   * (IneligibleError, DeadlinePassedError, …). Lambda counts them in its own Errors
   * metric; the Lambda error alarms subtract them. Dimension `function`.
   */
  expectedTaskErrors: 'ExpectedTaskErrors',
} as const;

/** The dimension names, as they appear in the EMF blobs and the dashboard's metrics. */
export const DIMENSION = {
  service: 'service',
  programYear: 'programYear',
  district: 'district',
  stage: 'stage',
  outcome: 'outcome',
  function: 'function',
} as const;
