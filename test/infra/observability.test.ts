/**
 * Alarms, their SNS topic, the funnel on the dashboard and the names Powertools reads,
 * as CloudFormation gets them.
 */
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Outcome, Stage } from '#domain/case';
import { FUNNEL_OUTCOMES, FUNNEL_STAGES } from '../../infra/constructs/operations-dashboard.ts';
import { FUNCTIONS, type FunctionId } from '../../infra/functions.ts';
import { ProkusStack } from '../../infra/prokus-stack.ts';
import { type CfnTemplate, logicalId, render, SENDER, synthProkus, testApp } from './synth.ts';

const { stack, template, json } = synthProkus();
const ids = Object.keys(FUNCTIONS) as FunctionId[];
const fnId = (id: FunctionId) => logicalId(stack, stack.functions[id]);

type AlarmProps = {
  AlarmName: string;
  AlarmActions: unknown[];
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  AlarmDescription?: string;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] } };
  }[];
};

function alarmsOf(t: CfnTemplate): AlarmProps[] {
  return Object.values(t.Resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties as AlarmProps);
}
const alarmNamed = (t: CfnTemplate, name: string) => {
  const found = alarmsOf(t).find((a) => a.AlarmName === name);
  if (!found) throw new Error(`no alarm ${name}`);
  return found;
};

describe('alarms', () => {
  it('failed and timed-out executions of both state machines', () => {
    for (const [machine, logical] of [
      ['Journey', logicalId(stack, stack.journey)],
      ['Intake', logicalId(stack, stack.intake)],
    ] as const) {
      for (const [kind, metric] of [
        ['Failed', 'ExecutionsFailed'],
        ['TimedOut', 'ExecutionsTimedOut'],
      ] as const) {
        const alarm = alarmNamed(json, `ProkusTest-${machine}Executions${kind}`);
        expect(alarm).toMatchObject({
          Namespace: 'AWS/States',
          MetricName: metric,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        });
        expect(render(alarm.Dimensions?.[0]?.Value)).toBe(`{${logical}}`);
      }
    }
  });

  it('a failed execution says what to do: the journey restarts from its case, the intake is redriven', () => {
    expect(alarmNamed(json, 'ProkusTest-JourneyExecutionsFailed').AlarmDescription).toContain('keeps its stage for a restart');
    expect(alarmNamed(json, 'ProkusTest-IntakeExecutionsFailed').AlarmDescription).toContain(
      'redrive it (aws stepfunctions redrive-execution): it continues in the state that failed',
    );
  });

  it('Lambda errors of every function, less the errors its handler counted as thrown by design', () => {
    for (const id of ids) {
      const alarm = alarmNamed(json, `ProkusTest-${id}Errors`);
      const metrics = alarm.Metrics ?? [];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe('errors - FILL(expected, 0)');
      const errors = metrics.find((m) => m.Id === 'errors')?.MetricStat?.Metric;
      expect(errors).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors' });
      expect(errors?.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: fnId(id) } }]);
      const expected = metrics.find((m) => m.Id === 'expected')?.MetricStat?.Metric;
      expect(expected).toMatchObject({ Namespace: 'Prokus', MetricName: 'ExpectedTaskErrors' });
      expect(expected?.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'function', Value: { Ref: fnId(id) } },
          { Name: 'service', Value: 'prokus' },
        ]),
      );
      expect(expected?.Dimensions).toHaveLength(2);
    }
  });

  it("a message in the upload rule's dead-letter queue", () => {
    const rule = Object.values(json.Resources).find((r) => r.Type === 'AWS::Events::Rule');
    if (!rule) throw new Error('no EventBridge rule');
    const targets = (rule.Properties as { Targets: { DeadLetterConfig: { Arn: unknown } }[] }).Targets;
    const dlq = render(targets[0]?.DeadLetterConfig.Arn);
    const alarm = alarmNamed(json, 'ProkusTest-UndeliveredUploads');
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // The alarm watches the queue the rule dead-letters to: {Queue.QueueName} and {Queue.Arn} of one queue.
    expect(render(alarm.Dimensions?.[0]?.Value).replace('.QueueName}', '.Arn}')).toBe(dlq);
  });

  it('without an alarmTopicArn, every alarm notifies a topic of the stack that requires TLS', () => {
    const topics = template.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(1);
    const topicId = Object.keys(topics)[0]!;
    const alarms = alarmsOf(json);
    expect(alarms).toHaveLength(2 * 2 + ids.length + 1);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
  });

  it('with an alarmTopicArn, every alarm notifies that topic and the stack creates none', () => {
    const arn = 'arn:aws:sns:ap-southeast-3:123456789012:prokus-operations';
    const other = new ProkusStack(testApp(), 'ProkusTest', { senderEmail: SENDER, alarmTopicArn: arn });
    const t = Template.fromStack(other);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = alarmsOf(t.toJSON() as CfnTemplate);
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect(a.AlarmActions).toEqual([arn]);
  });
});

describe('the funnel on the dashboard', () => {
  it('names the stages and outcomes the case record has', () => {
    expect(FUNNEL_STAGES).toEqual(Stage.options);
    expect([...FUNNEL_OUTCOMES].sort()).toEqual([...Outcome.options].sort());
  });

  it('shows cases entering each stage, outcomes and rows, nationally and for the district picked', () => {
    const body = new Capture();
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: body });
    const dashboard = JSON.parse(render(body.asObject())) as {
      variables: { property: string; inputType: string; search: string }[];
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const metricsOf = (title: string) => {
      const widget = dashboard.widgets.find((w) => w.properties.title === title);
      if (!widget) throw new Error(`no widget ${title}`);
      // [namespace, name, dim1, value1, dim2, value2, …, {options}]
      return (widget.properties.metrics ?? []).map((m) => {
        const [namespace, name, ...rest] = m.filter((x): x is string => typeof x === 'string');
        const dims: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dims[rest[i]!] = rest[i + 1]!;
        return { namespace, name, dims };
      });
    };
    const national = { service: 'prokus', programYear: 'pick a program year' };
    const district = { ...national, district: 'pick a district' };
    expect(metricsOf('Funnel, national: cases entering each stage')).toEqual(
      Stage.options.map((stage) => ({ namespace: 'Prokus', name: 'CaseEnteredStage', dims: { ...national, stage } })),
    );
    expect(metricsOf('Funnel, district: cases entering each stage')).toEqual(
      Stage.options.map((stage) => ({ namespace: 'Prokus', name: 'CaseEnteredStage', dims: { ...district, stage } })),
    );
    expect(metricsOf('Funnel, national: outcomes')).toEqual(
      FUNNEL_OUTCOMES.map((outcome) => ({ namespace: 'Prokus', name: 'CaseClosed', dims: { ...national, outcome } })),
    );
    expect(metricsOf('Funnel, district: outcomes')).toEqual(
      FUNNEL_OUTCOMES.map((outcome) => ({ namespace: 'Prokus', name: 'CaseClosed', dims: { ...district, outcome } })),
    );
    for (const [title, dims] of [
      ['Proposal rows, national', national],
      ['Proposal rows, district', district],
    ] as const) {
      expect(metricsOf(title)).toEqual(
        ['ProposalRowsAccepted', 'ProposalRowsRejected'].map((name) => ({ namespace: 'Prokus', name, dims })),
      );
    }
    expect(dashboard.variables.map((v) => [v.property, v.inputType])).toEqual([
      ['programYear', 'select'],
      ['district', 'select'],
    ]);
  });
});
