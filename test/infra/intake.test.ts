/**
 * The intake on AWS: which S3 writes start it (the EventBridge rule), and how its
 * Distributed Map starts journeys within the StartExecution quota (the deployed ASL).
 */
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { START_JOURNEYS_RESULTS } from '#intake/bucket-layout';
import { INTAKE_KEY_PATTERN, matchesWildcard, NOT_PROPOSALS, startsIntake } from '../../workflows/intake-trigger.ts';
import { logicalId, permissionsOf, stagedDefinition, synthProkus } from './synth.ts';

const { app, stack, template, json } = synthProkus();
const intakeId = logicalId(stack, stack.intake);
const bucketId = logicalId(stack, stack.node.findChild('Data').node.findChild('Files'));

type Json = Record<string, unknown>;

const definition = (() => {
  const props = json.Resources[intakeId]?.Properties as { DefinitionS3Location: { Key: string } };
  return JSON.parse(stagedDefinition(app, props.DefinitionS3Location.Key)) as { States: Record<string, Json> };
})();
const startJourneys = definition.States.StartJourneys as Json & {
  ItemProcessor: { ProcessorConfig: Json; States: Record<string, Json> };
};
const startBatch = startJourneys.ItemProcessor.States.StartBatch as Json & { ItemProcessor: { States: Record<string, Json> } };
const startJourney = startBatch.ItemProcessor.States.StartJourney as Json & {
  Retry: { ErrorEquals: string[]; MaxAttempts: number; JitterStrategy: string; MaxDelaySeconds: number }[];
  Catch: { ErrorEquals: string[]; Next: string }[];
};

/**
 * What EventBridge does with the rule's `detail.object.key` list for one key: a plain
 * string is an exact match, `prefix` a prefix, `anything-but` with a wildcard list
 * matches when no wildcard does; the list's entries are ORed.
 */
function keyMatches(patterns: unknown[], key: string): boolean {
  return patterns.some((p) => {
    if (typeof p === 'string') return p === key;
    const m = p as { prefix?: string; 'anything-but'?: { wildcard?: string[] } };
    if (m.prefix !== undefined) return key.startsWith(m.prefix);
    const wildcards = m['anything-but']?.wildcard;
    if (wildcards) return !wildcards.some((w) => matchesWildcard(w, key));
    throw new Error(`matcher not modelled here: ${JSON.stringify(p)}`);
  });
}

describe('intake trigger', () => {
  const rulePattern = () => {
    const pattern = new Capture();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: pattern,
      Targets: [Match.objectLike({ Arn: { Ref: intakeId }, DeadLetterConfig: Match.anyValue() })],
    });
    return pattern.asObject() as { detail: { object: { key: unknown[] } } };
  };

  it('objects created in our bucket start the intake, except what intake writes itself and files waiting for their check, in one anything-but list', () => {
    expect(rulePattern()).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: bucketId }] },
        object: { key: [{ 'anything-but': { wildcard: ['intake/*', 'checks/*', '*.report.csv', '*.report.json', '*/'] } }] },
      },
    });
    expect(INTAKE_KEY_PATTERN).toEqual([{ 'anything-but': { wildcard: [...NOT_PROPOSALS] } }]);
  });

  it.each([
    ['proposals/3210/usulan-maret.csv', true],
    ['proposals/3210/Usulan Maret (final).xlsx', true],
    ['proposals/3210/usulan.txt', true],
    ['proposals/3210/usulan-maret.csv.report.csv', false],
    ['proposals/3210/usulan-maret.csv.report.json', false],
    ['proposals/3210/', false],
    ['intake/upload-abc/journeys.json', false],
    [`${START_JOURNEYS_RESULTS}0f1e/manifest.json`, false],
    // The upload page's file before the officer submits it: checked, never an intake.
    ['checks/3210/0f1e2d3c/usulan.csv', false],
    // Outside proposals/ an intake starts and ends at once in NotAProposal (the ASL's first state).
    ['usulan.csv', true],
  ])('%s starts an intake: %s (the rule as deployed, and the embedded runtime alike)', (key, starts) => {
    expect(keyMatches(rulePattern().detail.object.key, key)).toBe(starts);
    expect(startsIntake(key)).toBe(starts);
  });
});

describe('a failed intake, as deployed', () => {
  it('stops in the state that failed, where a redrive continues: only a rejected file is caught, and no state is a Fail', () => {
    const states = Object.entries(definition.States);
    expect(states.filter(([, s]) => s.Type === 'Fail')).toEqual([]);
    const caught = states.flatMap(([name, s]) =>
      ((s.Catch ?? []) as { ErrorEquals: string[]; Next: string }[]).map(
        (c) => `${name}: ${c.ErrorEquals.join(',')} -> ${c.Next}`,
      ),
    );
    expect(caught).toEqual(['ReadProposal: ProposalFileError -> FileRejected']);
  });
});

describe('StartJourneys, as deployed', () => {
  it('is a Distributed Map over the journeys list ReadProposal wrote, in batches of 100 with the upload id', () => {
    expect(startJourneys).toMatchObject({
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.intake.journeys.bucket', 'Key.$': '$.intake.journeys.key' },
      },
      ItemBatcher: { MaxItemsPerBatch: 100, BatchInput: { 'uploadId.$': '$.intake.uploadId' } },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'StartBatch' },
      ToleratedFailurePercentage: 0,
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { 'Bucket.$': '$.intake.journeys.bucket', Prefix: START_JOURNEYS_RESULTS.replace(/\/$/, '') },
      },
      ResultPath: null,
    });
    // A batch starts its families through an inline Map over the batch's Items.
    expect(startBatch).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.Items',
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'StartJourney' },
    });
  });

  it('keeps the StartExecution calls in flight per intake near the quota refill (150 a second in ap-southeast-3)', () => {
    const inFlight = (startJourneys.MaxConcurrency as number) * (startBatch.MaxConcurrency as number);
    // At ~100 ms a call, 20 calls in flight ask ~200 starts a second: the bucket's refill, not a flood.
    expect(inFlight).toBeGreaterThanOrEqual(10);
    expect(inFlight).toBeLessThanOrEqual(20);
  });

  it('retries refused StartExecution calls with backoff and full jitter, and catches an existing execution as AlreadyStarted', () => {
    expect(startJourney).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: {
        // The CDK substitution placeholder, filled in by CloudFormation.
        StateMachineArn: ['$', '{JourneyStateMachineArn}'].join(''),
        'Name.$': '$.executionName',
        Input: { 'caseId.$': '$.caseId' },
      },
    });
    const [retry] = startJourney.Retry;
    expect(retry?.ErrorEquals).toEqual(
      expect.arrayContaining([
        'StepFunctions.ThrottlingException',
        'StepFunctions.ExecutionLimitExceededException',
        'StepFunctions.SdkClientException',
        'StepFunctions.AWSStepFunctionsException',
      ]),
    );
    expect(retry).toMatchObject({ JitterStrategy: 'FULL', BackoffRate: 2 });
    expect(retry?.MaxAttempts).toBeGreaterThanOrEqual(20);
    expect(retry?.MaxDelaySeconds).toBeGreaterThanOrEqual(60);
    expect(startJourney.Catch).toEqual([
      { ErrorEquals: ['StepFunctions.ExecutionAlreadyExistsException'], ResultPath: null, Next: 'AlreadyStarted' },
    ]);
  });

  it('the intake may write its Map Run results under intake/start-journeys/ and nowhere else in the bucket', () => {
    const puts = permissionsOf(json, logicalId(stack, stack.intake.role)).filter((p) => p.action.startsWith('s3:Put'));
    expect(puts).toContainEqual({ action: 's3:PutObject', resource: `{${bucketId}.Arn}/${START_JOURNEYS_RESULTS}*` });
    expect(puts.every((p) => p.resource === `{${bucketId}.Arn}/${START_JOURNEYS_RESULTS}*`)).toBe(true);
  });
});
