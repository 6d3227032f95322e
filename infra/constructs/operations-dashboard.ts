/**
 * What an operator checks first: are journeys and intakes starting, finishing,
 * failing or timing out. Details are one click away in the Step Functions console.
 */
import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, type IMetric, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface OperationsDashboardProps {
  readonly dashboardName: string;
  readonly stateMachines: Record<string, StateMachine>;
  readonly functions: IFunction[];
}

export class OperationsDashboard extends Construct {
  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const dashboard = new Dashboard(this, 'Resource', { dashboardName: props.dashboardName });
    dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown:
          '# Prokus\nExecutions per state machine. Open a family in the Step Functions console by its execution name ' +
          '(district, program year, keyed hash): names and payloads never contain a NIK.',
      }),
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
