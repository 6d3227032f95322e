/**
 * The funnel's raw numbers as CloudWatch metrics (Powertools Metrics, embedded metric
 * format: one JSON blob per log line, which CloudWatch turns into metrics). Namespace
 * `Prokus`; every metric also has the dimension service=prokus.
 *
 *   CaseEnteredStage      [programYear, stage]    [programYear, district, stage]
 *   CaseClosed            [programYear, outcome]  [programYear, district, outcome]
 *   ProposalRowsAccepted  [programYear]           [programYear, district]
 *   ProposalRowsRejected  [programYear]           [programYear, district]
 *   ExpectedTaskErrors    [function]
 *
 * Two dimension sets per funnel count: the national funnel reads the first, a district's
 * funnel the second (the dashboard picks the district). Cardinality and cost: each
 * distinct set of dimension values is one custom metric, billed per hour it receives a
 * value. The national sets stay at about 15 metrics per program year; the district sets
 * grow to ≈514 districts × (6 stages + 6 outcomes + 2) ≈ 7,200 per program year when
 * every district is active in the same hour, and are billed only for the hours a
 * district has cases moving. Nothing finer than a district ever becomes a dimension:
 * case ids, upload ids and sub-districts stay out (they would make a metric per family);
 * look those up in the logs, where every line of a task carries its case id.
 *
 * Counts are added where they happen (store/cases.ts for stages and outcomes,
 * ReadProposal for rows) and published when the invocation ends: taskHandler and the
 * pages handler use Powertools' logMetrics middleware with `allMetrics`.
 */
import { InvocationScoped } from '@aws-lambda-powertools/commons/utils/invocation-scoped';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, printToLogFile } from './logger.ts';
import { DIMENSION, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './metric-names.ts';

/**
 * Metrics' own notices go to the log, two of them as debug, not warn: "No application
 * metrics to publish" is the normal case of most invocations here (four instances, most
 * of them empty); and Powertools 2.x calls a key that two dimension sets share a
 * collision even when both hold the same value, which is how nested sets ([programYear,
 * stage] inside [programYear, district, stage]) are written in EMF. funnelSets builds both
 * sets from one value per key, so they never disagree.
 */
const ROUTINE = [/^No application metrics/, /^EMF key "[^"]+" is defined as both a dimension set and dimension set;/];
const notices = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) => (ROUTINE.some((r) => r.test(message)) ? logger.debug(message) : logger.warn(message)),
  error: (message: string) => logger.error(message),
};

function instance(): Metrics {
  const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger: notices });
  printToLogFile(m);
  return m;
}

// One EMF blob carries one value per dimension, so each kind of count has its own
// instance: a Close adds a stage and an outcome, a ReadProposal cases and rows.
const stages = instance();
const outcomes = instance();
const rows = instance();
const tasks = instance();

/** Every instance, for logMetrics: each publishes what it holds when the invocation ends. */
export const allMetrics: Metrics[] = [stages, outcomes, rows, tasks];

/** The dimension sets each instance holds right now, per invocation (the embedded runtime runs many at once). */
const heldSets = new InvocationScoped<Map<Metrics, string>>('prokus.metrics.dimensionSets', { fresh: () => new Map() });

function count(target: Metrics, name: string, sets: Record<string, string>[], value: number): void {
  const key = JSON.stringify(sets);
  const held = heldSets.get();
  // Counts for other dimension values (a second district in one invocation) go out first.
  if (target.hasStoredMetrics() && held.get(target) !== key) target.publishStoredMetrics();
  if (!target.hasStoredMetrics()) {
    for (const set of sets) target.addDimensions(set);
    held.set(target, key);
  }
  target.addMetric(name, MetricUnit.Count, value);
}

interface Where {
  district: string;
  programYear: number;
}

function funnelSets(where: Where, extra: Record<string, string>): Record<string, string>[] {
  const programYear = String(where.programYear);
  return [
    { [DIMENSION.programYear]: programYear, ...extra },
    { [DIMENSION.programYear]: programYear, [DIMENSION.district]: where.district, ...extra },
  ];
}

/** `n` cases of a district and year entered `stage`. */
export function countCaseEnteredStage(where: Where, stage: string, n = 1): void {
  count(stages, METRIC.caseEnteredStage, funnelSets(where, { [DIMENSION.stage]: stage }), n);
}

/** A case of a district and year closed with `outcome`. */
export function countCaseClosed(where: Where, outcome: string): void {
  count(outcomes, METRIC.caseClosed, funnelSets(where, { [DIMENSION.outcome]: outcome }), 1);
}

/** One proposal file's rows: registered, and refused. */
export function countProposalRows(where: Where, accepted: number, rejected: number): void {
  const sets = funnelSets(where, {});
  count(rows, METRIC.proposalRowsAccepted, sets, accepted);
  count(rows, METRIC.proposalRowsRejected, sets, rejected);
}

/** A task ended with an error it throws by design (the state machine catches it by name). */
export function countExpectedTaskError(functionName: string): void {
  count(tasks, METRIC.expectedTaskErrors, [{ [DIMENSION.function]: functionName }], 1);
}
