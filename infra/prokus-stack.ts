/**
 * Prokus on AWS: an upload under proposals/ starts the intake state machine, which
 * starts one journey execution per accepted family; Lambda functions do the work,
 * DynamoDB holds the cases, SES sends the links, an HTTP API serves the pages behind
 * those links, and a Cognito user pool signs in the people who use them. The state
 * machines are the ASL files the embedded runtime also runs.
 */

import { ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HttpMethods } from 'aws-cdk-lib/aws-s3';
import { EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { JOURNEYS_LISTS, PROPOSALS_PREFIX, START_JOURNEYS_RESULTS } from '#intake/bucket-layout';
import type { ConsoleEnvName, LambdaEnvironment } from '#lib/env';
import { PAGE_ROUTES, type PageRoute } from '#web/routes';
import { functionsOf, WORKFLOW_FUNCTION_IDS, WORKFLOW_FUNCTIONS } from '../workflows/functions.ts';
import { INTAKE_KEY_PATTERN } from '../workflows/intake-trigger.ts';
import { AslStateMachine } from './constructs/asl-state-machine.ts';
import { grantListing, grantObjectAccess, grantTableAccess } from './constructs/data-access.ts';
import { OperationsDashboard } from './constructs/operations-dashboard.ts';
import { ProkusData } from './constructs/prokus-data.ts';
import { ProkusFunction } from './constructs/prokus-function.ts';
import { SignIn } from './constructs/sign-in.ts';
import { FUNCTIONS, type FunctionId } from './functions.ts';
import { suppressAcceptedFindings } from './nag-suppressions.ts';
import { FUNCTION_PERMISSIONS } from './permissions.ts';

/**
 * One line per request to the pages. The path carries the link token
 * (`/r/<requestId>.<signature>`), so only the route template is logged, never the path or
 * a query string; the source IP and user agent stay out too, since they can identify the
 * person who opened the link (personal data under UU PDP No. 27/2022, to be safe).
 */
export const PAGES_ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
} as const;

export interface ProkusStackProps extends StackProps {
  /** The From address of every email; SES must verify it before mail goes out. */
  readonly senderEmail: string;
  readonly logLevel?: string;
  /** The SNS topic the alarms notify; without one the stack creates a topic. */
  readonly alarmTopicArn?: string;
  /** `existing`: the sender address is already a verified SES identity of the account (default `create`: the stack makes it). */
  readonly senderIdentity?: 'create' | 'existing';
  /** The managed login's domain prefix (`<prefix>.auth.<region>.amazoncognito.com`); default `<stack name>-<account id>`. */
  readonly signInDomainPrefix?: string;
}

/** One route of the pages' HTTP API, as functions/web/routes.ts declares it, and the route CDK made of it. */
export interface PagesRoute {
  readonly declared: PageRoute;
  readonly route: HttpRoute;
}

export class ProkusStack extends Stack {
  readonly functions: Record<FunctionId, ProkusFunction>;
  readonly journey: StateMachine;
  readonly intake: StateMachine;
  readonly data: ProkusData;
  readonly pagesApi: HttpApi;
  readonly pagesRoutes: readonly PagesRoute[];
  readonly signIn: SignIn;
  readonly pagesAuthorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: ProkusStackProps) {
    super(scope, id, props);

    const data = new ProkusData(this, 'Data');
    this.data = data;
    const sender =
      props.senderIdentity === 'existing'
        ? EmailIdentity.fromEmailIdentityName(this, 'Sender', props.senderEmail)
        : new EmailIdentity(this, 'Sender', { identity: Identity.email(props.senderEmail) });

    // The API exists before its routes so every function (OpenRequest builds the links)
    // can know its URL; only the routes point back at the Pages function, so no cycle.
    const pagesApi = new HttpApi(this, 'PagesApi', {
      description: 'Prokus approval, report and referral pages',
      createDefaultStage: false,
    });
    this.pagesApi = pagesApi;
    const pagesAccessLogs = new LogGroup(this, 'PagesAccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    pagesApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Each link serves one person; the limit only keeps a misbehaving client from using up Lambda concurrency.
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(pagesAccessLogs),
        format: AccessLogFormat.custom(JSON.stringify(PAGES_ACCESS_LOG_FORMAT)),
      },
    });

    // The app client's callback URL needs the API's URL, and the functions' environment the
    // client's id: the API comes first, the client second, the functions third; only the
    // routes point back at the functions, so no cycle.
    const signIn = new SignIn(this, 'SignIn', {
      senderEmail: props.senderEmail,
      pagesUrl: pagesApi.apiEndpoint,
      domainPrefix: props.signInDomainPrefix ?? `${this.stackName.toLowerCase()}-${Aws.ACCOUNT_ID}`,
    });
    this.signIn = signIn;
    // Cognito refuses an SES identity it cannot find: the identity exists before the pool.
    signIn.userPool.node.addDependency(sender);

    const environment: LambdaEnvironment = {
      TABLE_NAME: data.table.tableName,
      BUCKET_NAME: data.bucket.bucketName,
      SECRET_ID: data.secret.secretArn,
      MAIL_FROM: props.senderEmail,
      PAGES_URL: pagesApi.apiEndpoint,
      LOG_LEVEL: props.logLevel ?? 'info',
      OIDC_ISSUER: signIn.issuer,
      OIDC_CLIENT_ID: signIn.client.userPoolClientId,
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
      // The upload page's check reads a whole file of up to 100 MiB (an XLSX from memory, as ReadProposal does).
      Pages: fn('Pages', { timeout: Duration.seconds(25), memorySize: 1024 }),
      // A case page reads a few executions; an execution page its whole history (up to 10 pages)
      // and lays out the graph; a CSV reads up to 40,000 cases. API Gateway gives up after 30 s.
      Console: fn('Console', { timeout: Duration.seconds(25), memorySize: 1024 }),
      // One GetItem; every person's page waits for it.
      Authorize: fn('Authorize', { timeout: Duration.seconds(10) }),
    };
    const all = Object.values(this.functions);

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

    for (const id of WORKFLOW_FUNCTION_IDS) {
      allowInvoke(WORKFLOW_FUNCTIONS[id].machine === 'intake' ? this.intake : this.journey, this.functions[id]);
    }

    // The journey's definition names these functions, and a function waits for its role's
    // policies: granting on the journey construct itself would be a cycle. The same state
    // machine, referenced by its name, breaks it.
    const journeyByName = StateMachine.fromStateMachineName(this, 'JourneyByName', journeyName);
    // What each function may do: the calls its handler makes, and no others (infra/permissions.ts).
    for (const id of Object.keys(FUNCTIONS) as FunctionId[]) {
      const fn = this.functions[id];
      const permissions = FUNCTION_PERMISSIONS[id];
      for (const access of permissions.table) grantTableAccess(fn, data.table, access);
      if (permissions.bucket) {
        grantObjectAccess(fn, data.bucket, ['s3:GetObject'], permissions.bucket.read);
        if (permissions.bucket.write.length > 0) grantObjectAccess(fn, data.bucket, ['s3:PutObject'], permissions.bucket.write);
        if (permissions.bucket.delete) grantObjectAccess(fn, data.bucket, ['s3:DeleteObject'], permissions.bucket.delete);
        if (permissions.bucket.list) grantListing(fn, data.bucket, permissions.bucket.list);
      }
      if (permissions.sendsMail) sender.grantSendEmail(fn);
      if (permissions.answersTasks) {
        // settleTask reports success or failure; nothing sends heartbeats.
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
            resources: [journeyByName.stateMachineArn],
          }),
        );
      }
      if (permissions.readsExecutions) {
        const executions = [this.journey, this.intake].map((m) => this.executionsArn(m));
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['states:ListExecutions'],
            resources: [this.journey.stateMachineArn, this.intake.stateMachineArn],
          }),
        );
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:DescribeStateMachineForExecution'],
            resources: executions,
          }),
        );
        this.journey.grantStartExecution(fn);
        const env: Record<ConsoleEnvName, string> = {
          JOURNEY_STATE_MACHINE_ARN: this.journey.stateMachineArn,
          INTAKE_STATE_MACHINE_ARN: this.intake.stateMachineArn,
        };
        for (const [name, value] of Object.entries(env)) fn.addEnvironment(name, value);
      }
      if (permissions.readsSecret) {
        // loadKeys at cold start: GetSecretValue only (the secret is encrypted with Secrets Manager's own key).
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [data.secret.secretArn] }),
        );
      }
    }

    this.journey.grantStartExecution(this.intake);
    // StartJourneys is a Distributed Map: ItemReader reads the journeys list ReadProposal
    // wrote, ResultWriter leaves the Map Run's results for operators, and the map runs its
    // child executions as executions of the intake itself.
    grantObjectAccess(this.intake, data.bucket, ['s3:GetObject'], [JOURNEYS_LISTS]);
    // What Step Functions documents (and CDK's own ResultWriter grants) for writing Map Run results.
    grantObjectAccess(
      this.intake,
      data.bucket,
      ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      [`${START_JOURNEYS_RESULTS}*`],
    );
    const intakeByName = StateMachine.fromStateMachineName(this, 'IntakeByName', intakeName);
    intakeByName.grantStartExecution(this.intake);
    // Redriving a failed intake redrives its Map Run, which redrives the failed child
    // executions as the intake's role: Step Functions asks for RedriveExecution on them.
    this.intake.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
        resources: [this.intakeExecutionsArn],
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

    // The officers' browsers POST their files straight to the bucket (a presigned POST the
    // pages sign), from the pages and from nowhere else.
    data.bucket.addCorsRule({
      allowedOrigins: [pagesApi.apiEndpoint],
      allowedMethods: [HttpMethods.POST],
      maxAge: 3600,
    });

    // Every route of functions/web/routes.ts, and the session gate on those that act for a
    // person. The session is an opaque HttpOnly cookie, not a JWT: a Lambda REQUEST
    // authorizer checks it (functions/authorize.ts). Without a Cookie header API Gateway
    // answers 401 without calling it; no caching, since sign-out ends a session at once.
    this.pagesAuthorizer = new HttpLambdaAuthorizer('Session', this.functions.Authorize, {
      authorizerName: 'session',
      identitySource: ['$request.header.Cookie'],
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: Duration.seconds(0),
    });
    const integrations: Record<PageRoute['fn'], HttpLambdaIntegration> = {
      Pages: new HttpLambdaIntegration('Pages', this.functions.Pages),
      Console: new HttpLambdaIntegration('Console', this.functions.Console),
    };
    this.pagesRoutes = PAGE_ROUTES.map((declared) => ({
      declared,
      route: new HttpRoute(pagesApi, `${declared.method}${declared.path}`, {
        httpApi: pagesApi,
        routeKey: HttpRouteKey.with(declared.path, HttpMethod[declared.method]),
        integration: integrations[declared.fn],
        ...(declared.person ? { authorizer: this.pagesAuthorizer } : {}),
      }),
    }));

    const operations = new OperationsDashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-operations`,
      stateMachines: { Journey: this.journey, Intake: this.intake },
      whenFailed: {
        Journey: 'The case keeps its stage for a restart.',
        Intake:
          'Once the cause is fixed, redrive it (aws stepfunctions redrive-execution): it continues in the state that failed and starts the missing journeys once (README: An intake failed).',
      },
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
    new CfnOutput(this, 'UserPoolId', {
      value: signIn.userPool.userPoolId,
      description: 'Create accounts here (README, Sign-in on AWS)',
    });
    new CfnOutput(this, 'SignInUrl', { value: signIn.domain.baseUrl() });
    new CfnOutput(this, 'UndeliveredUploadsQueueUrl', { value: undelivered.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: operations.alarmTopic.topicArn,
      description: 'Subscribe to hear about alarms',
    });

    suppressAcceptedFindings(this);
  }

  /**
   * The executions of a state machine by their own names (`…:execution:<machine>:<name>`),
   * which the console reads: a case's journeys, the intakes. Not the Distributed Map's child
   * executions (`<machine>/<map run>:<name>`), which it does not show.
   */
  executionsArn(machine: StateMachine): string {
    return this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.splitArn(machine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Every execution of the intake, the Distributed Map's child executions among them. */
  get intakeExecutionsArn(): string {
    return this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stackName}-Intake/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private arnSubstitutions(ids: FunctionId[]): Record<string, string> {
    return Object.fromEntries(ids.map((id) => [`${id}FunctionArn`, this.functions[id].functionArn]));
  }
}

/**
 * The state machine calls the function by its unqualified ARN (ASL `lambda:invoke`), so
 * that ARN alone; `grantInvoke` would add every version and alias (`<arn>:*`) as well.
 */
function allowInvoke(machine: IGrantable, fn: IFunction): void {
  machine.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
  );
}
