/**
 * What an operator checks first: are journeys and intakes starting, finishing,
 * failing or timing out; how many families stand at each stage of the funnel, nationally
 * and in one district; and the alarms, which notify an SNS topic (the `alarmTopicArn`
 * context, or a topic of this stack when there is none). Details are one click away in
 * the Step Functions console, X-Ray and the functions' log groups.
 *
 * The funnel widgets read the metrics functions/lib/metrics.ts publishes; the dashboard's
 * "Program year" and "District" pickers set those dimensions on every funnel widget.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  DashboardVariable,
  DefaultValue,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  Stats,
  TextWidget,
  TreatMissingData,
  Values,
  VariableInputType,
  VariableType,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/lib/metric-names.ts';

/** The stages and outcomes of functions/domain/case.ts, in funnel order (test/infra checks they agree). */
export const FUNNEL_STAGES = ['verification', 'grant-approval', 'disbursement', 'mentoring', 'financing-referral', 'closed'];
export const FUNNEL_OUTCOMES = [
  'graduated',
  'ineligible',
  'rejected',
  'approval-expired',
  'quota-exhausted',
  'mentoring-incomplete',
  'already-granted',
];

/** Until the pickers set them (on load, to the first value CloudWatch finds). */
const PICK_YEAR = 'pick a program year';
const PICK_DISTRICT = 'pick a district';

export interface OperationsDashboardProps {
  readonly dashboardName: string;
  readonly stateMachines: Record<string, StateMachine>;
  /** What an operator does about a failed execution, by state machine label (the alarm says it). */
  readonly whenFailed: Record<string, string>;
  readonly functions: IFunction[];
  /** Where uploads that could not start an intake wait (the EventBridge rule's dead-letter queue). */
  readonly undeliveredUploads: IQueue;
  /** An existing SNS topic for the alarms; when absent, the stack creates one. */
  readonly alarmTopicArn?: string;
}

export class OperationsDashboard extends Construct {
  readonly alarmTopic: ITopic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const prefix = Stack.of(this).stackName;

    this.alarmTopic = props.alarmTopicArn
      ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
        new Topic(this, 'AlarmTopic', { displayName: `${prefix} alarms`, enforceSSL: true });
    const action = new SnsAction(this.alarmTopic);
    const alarm = (alarmId: string, metric: IMetric, opts: { threshold: number; description: string; above?: boolean }) => {
      const created = new Alarm(this, alarmId, {
        alarmName: `${prefix}-${alarmId}`,
        alarmDescription: opts.description,
        metric,
        threshold: opts.threshold,
        comparisonOperator: opts.above
          ? ComparisonOperator.GREATER_THAN_THRESHOLD
          : ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };

    // ---- alarms ----

    for (const [label, machine] of Object.entries(props.stateMachines)) {
      alarm(`${label}ExecutionsFailed`, machine.metricFailed({ period, statistic: Stats.SUM }), {
        threshold: 1,
        description:
          `${label} executions failed: a task failed in a way no state catches. Open the execution in the Step Functions console. ${props.whenFailed[label] ?? ''}`.trim(),
      });
      alarm(`${label}ExecutionsTimedOut`, machine.metricTimedOut({ period, statistic: Stats.SUM }), {
        threshold: 1,
        description: `${label} executions timed out.`,
      });
    }
    // Lambda counts the errors tasks throw by design (an ineligible family, a passed
    // deadline, a rejected file) as errors too; the handlers count those as
    // ExpectedTaskErrors, and the alarm looks at the rest: failures, timeouts, crashes.
    for (const fn of props.functions) {
      const unexpected = new MathExpression({
        label: `${fn.node.id}: errors, less those thrown by design`,
        expression: 'errors - FILL(expected, 0)',
        usingMetrics: {
          errors: fn.metricErrors({ period, statistic: Stats.SUM }),
          expected: new Metric({
            namespace: METRICS_NAMESPACE,
            metricName: METRIC.expectedTaskErrors,
            dimensionsMap: { [DIMENSION.service]: SERVICE_NAME, [DIMENSION.function]: fn.functionName },
            period,
            statistic: Stats.SUM,
          }),
        },
        period,
      });
      alarm(`${fn.node.id}Errors`, unexpected, {
        threshold: 1,
        description: `${fn.node.id} failed with an unexpected error, timed out or crashed. Its log group has a "task failed" line with the case id.`,
      });
    }
    alarm(
      'UndeliveredUploads',
      props.undeliveredUploads.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM }),
      {
        threshold: 0,
        above: true,
        description:
          'An uploaded proposal file could not start the intake (EventBridge gave up): its event waits in the dead-letter queue. Fix the cause, then upload the file again.',
      },
    );

    // ---- the dashboard ----

    const funnelMetric = (metricName: string, dims: Record<string, string>, label: string, district: boolean) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: {
          [DIMENSION.service]: SERVICE_NAME,
          [DIMENSION.programYear]: PICK_YEAR,
          ...(district ? { [DIMENSION.district]: PICK_DISTRICT } : {}),
          ...dims,
        },
        statistic: Stats.SUM,
        period,
        label,
      });
    const stages = (district: boolean) =>
      FUNNEL_STAGES.map((stage) => funnelMetric(METRIC.caseEnteredStage, { [DIMENSION.stage]: stage }, stage, district));
    const outcomes = (district: boolean) =>
      FUNNEL_OUTCOMES.map((outcome) => funnelMetric(METRIC.caseClosed, { [DIMENSION.outcome]: outcome }, outcome, district));
    const rows = (district: boolean) => [
      funnelMetric(METRIC.proposalRowsAccepted, {}, 'rows accepted', district),
      funnelMetric(METRIC.proposalRowsRejected, {}, 'rows rejected', district),
    ];
    // Totals over the dashboard's time range: pick "1 year" to see a program year's funnel.
    const totals = (title: string, metrics: IMetric[], width: number) =>
      new SingleValueWidget({ title, metrics, width, height: 4, setPeriodToTimeRange: true });

    const dashboard = new Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      variables: [
        new DashboardVariable({
          id: 'programYear',
          label: 'Program year',
          type: VariableType.PROPERTY,
          value: DIMENSION.programYear,
          inputType: VariableInputType.SELECT,
          values: Values.fromSearchComponents({
            namespace: METRICS_NAMESPACE,
            dimensions: [DIMENSION.service, DIMENSION.programYear, DIMENSION.stage],
            metricName: METRIC.caseEnteredStage,
            populateFrom: DIMENSION.programYear,
          }),
          defaultValue: DefaultValue.FIRST,
        }),
        new DashboardVariable({
          id: 'district',
          label: 'District (kabupaten/kota code)',
          type: VariableType.PROPERTY,
          value: DIMENSION.district,
          inputType: VariableInputType.SELECT,
          values: Values.fromSearchComponents({
            namespace: METRICS_NAMESPACE,
            dimensions: [DIMENSION.service, DIMENSION.programYear, DIMENSION.district, DIMENSION.stage],
            metricName: METRIC.caseEnteredStage,
            populateFrom: DIMENSION.district,
          }),
          defaultValue: DefaultValue.FIRST,
        }),
      ],
    });
    dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown:
          '# Prokus\nExecutions per state machine, the funnel and the alarms. Open a family in the Step Functions console by its execution name ' +
          '(district, program year, keyed hash): names and payloads never contain a NIK. Its log lines carry its case id.',
      }),
    );
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }));

    dashboard.addWidgets(
      totals('Funnel, national: cases entering each stage', stages(false), 12),
      totals('Funnel, national: outcomes', outcomes(false), 8),
      totals('Proposal rows, national', rows(false), 4),
    );
    dashboard.addWidgets(
      totals('Funnel, district: cases entering each stage', stages(true), 12),
      totals('Funnel, district: outcomes', outcomes(true), 8),
      totals('Proposal rows, district', rows(true), 4),
    );
    dashboard.addWidgets(
      new GraphWidget({ title: 'Cases entering each stage, national', width: 12, left: stages(false) }),
      new GraphWidget({ title: 'Cases closed, by outcome, national', width: 12, left: outcomes(false), stacked: true }),
    );

    for (const [label, machine] of Object.entries(props.stateMachines)) {
      dashboard.addWidgets(
        new GraphWidget({
          title: `${label}: executions`,
          width: 24,
          left: [
            machine.metricStarted({ period, label: 'started' }),
            machine.metricSucceeded({ period, label: 'succeeded' }),
            machine.metricFailed({ period, label: 'failed' }),
            machine.metricTimedOut({ period, label: 'timed out' }),
            machine.metricAborted({ period, label: 'aborted' }),
          ],
        }),
      );
    }
    const perFunction = (metric: (fn: IFunction) => IMetric) => props.functions.map(metric);
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Lambda errors',
        width: 12,
        left: perFunction((fn) => fn.metricErrors({ period, label: fn.node.id })),
      }),
      new GraphWidget({
        title: 'Lambda throttles',
        width: 12,
        left: perFunction((fn) => fn.metricThrottles({ period, label: fn.node.id })),
      }),
    );
  }
}
