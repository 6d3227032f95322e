/**
 * Prokus on AWS: an upload under proposals/ starts the intake state machine, which
 * starts one journey execution per accepted family; Lambda functions do the work,
 * DynamoDB holds the cases, SES sends the links, an HTTP API serves the pages behind
 * those links. The state machines are the ASL files the embedded runtime also runs.
 */

import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { functionsOf, WORKFLOW_FUNCTIONS } from '../workflows/functions.ts';
import { INTAKE_KEY_PATTERN } from '../workflows/intake-trigger.ts';
import { AslStateMachine } from './constructs/asl-state-machine.ts';
import { OperationsDashboard } from './constructs/operations-dashboard.ts';
import { ProkusData } from './constructs/prokus-data.ts';
import { ProkusFunction } from './constructs/prokus-function.ts';

/** Where district offices upload proposal files (workflows/intake-trigger.ts says which writes start an intake). */
export const PROPOSALS_PREFIX = 'proposals/';
/** Where the intake's Distributed Map writes its results (ResultWriter in workflows/intake.asl.json). */
export const START_JOURNEYS_RESULTS = 'intake/start-journeys/';

/** One Lambda function per entry file in functions/: the state machines' tasks, and the pages. */
export const FUNCTIONS = {
  ...WORKFLOW_FUNCTIONS,
  Pages: { file: 'pages.ts', description: 'Approval, report and referral pages behind the HTTP API' },
} as const;
export type FunctionId = keyof typeof FUNCTIONS;

export interface ProkusStackProps extends StackProps {
  /** The From address of every email; SES must verify it before mail goes out. */
  readonly senderEmail: string;
  /** Who approves grants (OpenRequest sends the grant-approval links there). */
  readonly approverEmail: string;
  readonly logLevel?: string;
  /** The SNS topic the alarms notify; without one the stack creates a topic. */
  readonly alarmTopicArn?: string;
}

export class ProkusStack extends Stack {
  readonly functions: Record<FunctionId, ProkusFunction>;
  readonly journey: StateMachine;
  readonly intake: StateMachine;

  constructor(scope: Construct, id: string, props: ProkusStackProps) {
    super(scope, id, props);

    const data = new ProkusData(this, 'Data');
    const sender = new EmailIdentity(this, 'Sender', { identity: Identity.email(props.senderEmail) });

    // The API exists before its routes so every function (OpenRequest builds the links)
    // can know its URL; only the routes point back at the Pages function, so no cycle.
    const pagesApi = new HttpApi(this, 'PagesApi', {
      description: 'Prokus approval, report and referral pages',
      createDefaultStage: false,
    });
    pagesApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Each link serves one person; the limit only keeps a misbehaving client from using up Lambda concurrency.
      throttle: { rateLimit: 50, burstLimit: 100 },
    });

    const environment = {
      TABLE_NAME: data.table.tableName,
      BUCKET_NAME: data.bucket.bucketName,
      SECRET_ID: data.secret.secretArn,
      MAIL_FROM: props.senderEmail,
      APPROVER_EMAIL: props.approverEmail,
      PAGES_URL: pagesApi.apiEndpoint,
      LOG_LEVEL: props.logLevel ?? 'info',
    };

    const fn = (id: FunctionId, extra: { memorySize?: number; timeout?: Duration } = {}) =>
      new ProkusFunction(this, id, {
        entryFile: FUNCTIONS[id].file,
        description: FUNCTIONS[id].description,
        environment,
        ...extra,
      });
    this.functions = {
      LoadCase: fn('LoadCase'),
      Verification: fn('Verification'),
      OpenRequest: fn('OpenRequest'),
      AwaitRequest: fn('AwaitRequest'),
      Disbursement: fn('Disbursement'),
      PlanMentoring: fn('PlanMentoring'),
      Grading: fn('Grading'),
      FinancingReferral: fn('FinancingReferral'),
      Close: fn('Close'),
      RecordFailure: fn('RecordFailure'),
      // Whole files of up to 100,000 rows, checked and registered in one invocation.
      ReadProposal: fn('ReadProposal', { memorySize: 1024, timeout: Duration.minutes(15) }),
      // API Gateway gives up on an integration after 30 s.
      Pages: fn('Pages', { timeout: Duration.seconds(25) }),
    };
    const all = Object.values(this.functions);
    for (const f of all) {
      data.table.grantReadWriteData(f);
      data.secret.grantRead(f);
    }
    data.bucket.grantReadWrite(this.functions.ReadProposal);
    for (const f of [this.functions.OpenRequest, this.functions.ReadProposal, this.functions.Pages]) {
      sender.grantSendEmail(f);
    }

    const journeyName = `${this.stackName}-Journey`;
    const intakeName = `${this.stackName}-Intake`;

    const journey = new AslStateMachine(this, 'Journey', {
      aslFile: 'workflows/journey.asl.json',
      stateMachineName: journeyName,
      stateMachineType: StateMachineType.STANDARD,
      substitutions: this.arnSubstitutions(functionsOf('journey')),
    });
    this.journey = journey.stateMachine;

    const intake = new AslStateMachine(this, 'Intake', {
      aslFile: 'workflows/intake.asl.json',
      stateMachineName: intakeName,
      stateMachineType: StateMachineType.STANDARD,
      substitutions: {
        ...this.arnSubstitutions(functionsOf('intake')),
        JourneyStateMachineArn: this.journey.stateMachineArn,
      },
    });
    this.intake = intake.stateMachine;

    for (const id of Object.keys(FUNCTIONS) as FunctionId[]) {
      if (id === 'Pages') continue;
      this.functions[id].grantInvoke(id === 'ReadProposal' ? this.intake : this.journey);
    }

    // The journey's definition names these functions, and a function waits for its role's
    // policies: granting on the journey construct itself would be a cycle. The same state
    // machine, referenced by its name, breaks it.
    const journeyByName = StateMachine.fromStateMachineName(this, 'JourneyByName', journeyName);
    journeyByName.grantTaskResponse(this.functions.AwaitRequest);
    journeyByName.grantTaskResponse(this.functions.Pages);

    this.journey.grantStartExecution(this.intake);
    // StartJourneys is a Distributed Map: ItemReader reads the journeys list ReadProposal
    // wrote, ResultWriter leaves the Map Run's results for operators, and the map runs its
    // child executions as executions of the intake itself.
    data.bucket.grantRead(this.intake);
    data.bucket.grantPut(this.intake, `${START_JOURNEYS_RESULTS}*`);
    this.intake.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [data.bucket.arnForObjects(`${START_JOURNEYS_RESULTS}*`)],
      }),
    );
    const intakeByName = StateMachine.fromStateMachineName(this, 'IntakeByName', intakeName);
    intakeByName.grantStartExecution(this.intake);
    this.intake.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [
          this.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${intakeName}/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    // Uploads that could not reach the intake wait here instead of vanishing.
    const undelivered = new Queue(this, 'UndeliveredUploads', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    new Rule(this, 'ProposalUploaded', {
      description: 'A proposal file starts the intake; the reports and lists intake writes itself do not',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [data.bucket.bucketName] },
          object: { key: INTAKE_KEY_PATTERN },
        },
      },
      targets: [
        new SfnStateMachine(this.intake, {
          input: RuleTargetInput.fromObject({
            bucket: EventField.fromPath('$.detail.bucket.name'),
            key: EventField.fromPath('$.detail.object.key'),
          }),
          deadLetterQueue: undelivered,
          retryAttempts: 20,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const pages = new HttpLambdaIntegration('Pages', this.functions.Pages);
    pagesApi.addRoutes({ path: '/r/{token}', methods: [HttpMethod.GET, HttpMethod.POST], integration: pages });
    pagesApi.addRoutes({ path: '/health', methods: [HttpMethod.GET], integration: pages });

    const operations = new OperationsDashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-operations`,
      stateMachines: { Journey: this.journey, Intake: this.intake },
      functions: all,
      undeliveredUploads: undelivered,
      ...(props.alarmTopicArn ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    new CfnOutput(this, 'BucketName', {
      value: data.bucket.bucketName,
      description: `Upload proposals under ${PROPOSALS_PREFIX}`,
    });
    new CfnOutput(this, 'TableName', { value: data.table.tableName });
    new CfnOutput(this, 'JourneyStateMachineArn', { value: this.journey.stateMachineArn });
    new CfnOutput(this, 'IntakeStateMachineArn', { value: this.intake.stateMachineArn });
    new CfnOutput(this, 'PagesUrl', { value: pagesApi.apiEndpoint });
    new CfnOutput(this, 'UndeliveredUploadsQueueUrl', { value: undelivered.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: operations.alarmTopic.topicArn,
      description: 'Subscribe to hear about alarms',
    });
  }

  private arnSubstitutions(ids: FunctionId[]): Record<string, string> {
    return Object.fromEntries(ids.map((id) => [`${id}FunctionArn`, this.functions[id].functionArn]));
  }
}
