/**
 * The cdk-nag (AwsSolutions) findings Prokus accepts, each on the one resource it concerns
 * and with the reason it is accepted. Everything else the checks report is fixed, and
 * test/infra/nag.test.ts fails on any finding not suppressed here. IAM5 (wildcards) is
 * suppressed only for the exact wildcard strings listed (`appliesTo`), never for a whole
 * policy, so a new wildcard in the same policy is reported again.
 */
import { Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { INTAKE_OUTPUTS, JOURNEYS_LISTS, START_JOURNEYS_RESULTS } from '#intake/bucket-layout';
import type { PageRoute } from '#web/routes';
import type { ProkusData } from './constructs/prokus-data.ts';
import type { ProkusFunction } from './constructs/prokus-function.ts';
import type { SignIn } from './constructs/sign-in.ts';
import type { FunctionId } from './functions.ts';
import { CHECKS, UPLOADS } from './permissions.ts';

const XRAY = 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions: "*" is the only resource they take';
const LOG_DELIVERY =
  'Step Functions log delivery (logs:CreateLogDelivery and the rest) and X-Ray accept only "*" as resource (Step Functions docs)';

/**
 * The IAM5 finding for a resource ARN, flattened the way cdk-nag flattens it: `Ref` → `<Id>`,
 * `Fn::GetAtt` → `<Id.Attr>`, `Fn::Join` concatenated (`Resource::<DataFiles….Arn>/proposals/*`).
 */
function resourceFinding(scope: IConstruct, arn: string): string {
  const flatten = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o && 'Ref' in o) return `<${flatten(o.Ref)}>`;
    if (o && 'Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as unknown[]).map(flatten).join('.')}>`;
    if (o && 'Fn::Join' in o) {
      const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    return JSON.stringify(v);
  };
  return `Resource::${flatten(Stack.of(scope).resolve(arn))}`;
}

function iam5(role: IConstruct, reason: string, appliesTo: string[]): void {
  // applyToChildren: the wildcards sit in the role's DefaultPolicy.
  NagSuppressions.addResourceSuppressions(role, [{ id: 'AwsSolutions-IAM5', reason, appliesTo }], true);
}

/** What of the stack the suppressions name (the ProkusStack itself; a shape, so this module need not import it). */
export interface SuppressedStack extends IConstruct {
  readonly functions: Record<FunctionId, ProkusFunction>;
  readonly journey: StateMachine;
  readonly intake: StateMachine;
  readonly data: ProkusData;
  readonly pagesApi: HttpApi;
  /** Each route of functions/web/routes.ts and the HTTP API route made of it. */
  readonly pagesRoutes: readonly { readonly declared: PageRoute; readonly route: IConstruct }[];
  readonly signIn: SignIn;
  readonly intakeExecutionsArn: string;
  executionsArn(machine: StateMachine): string;
}

/**
 * Why each route without the session authorizer (functions/web/routes.ts, `person: false`)
 * may be reached without one. A new such route needs its reason here, or the synth fails.
 */
export const OPEN_ROUTES: Record<string, string> = {
  'GET /health': 'Health check for monitoring: returns {"ok":true} and touches no data',
  'GET /': 'The home page: says how to sign in, and what the signed-in person may do (the handler reads the session)',
  'GET /signin': 'The way in: starts the OpenID Connect sign-in, before there is a session',
  'GET /auth/callback': "Cognito's redirect back: the code is checked with PKCE and the state saved at /signin",
  'GET /signed-out': 'Where sign-out lands: a static page',
  'GET /r/{token}':
    'The signed, single-use, expiring link shows whom a request is for to its holder; the case only to the signed-in recipient (the handler checks the session)',
  'GET /assets/{file}': 'Self-hosted scripts and styles of the pages: no data',
  // The officers' pages (functions/officers/routes.ts): without a session each answers the way
  // to sign in and come back, which the authorizer's bare 401 cannot.
  'GET /upload':
    "The officers' upload page: without a session, the way to sign in; the handler checks the session and the officer role",
  'GET /upload/template':
    'The proposal template (no data) for signed-in officers: the handler checks the session and the officer role',
  'GET /uploads/{checkId}/check':
    "A check's verdicts: the handler checks the session, the officer role and that the check is of the officer's district (else 404)",
  'GET /uploads/{uploadId}':
    "An upload's status and progress: the handler checks the session, the officer role and looks the upload up in the officer's districts only",
  'GET /uploads/{uploadId}/report':
    "An upload's report: the handler checks the session, the officer role and looks the upload up in the officer's districts only",
  // The operators' console (functions/console/): the same, for the operator role; nobody else sees any of it.
  'GET /console':
    'The funnel dashboard: without a session, the way to sign in; the handler checks the session and the operator role',
  'GET /console/funnel.csv': 'The funnel as CSV (counts only): the handler checks the session and the operator role',
  'GET /console/cases': 'The case list: the handler checks the session and the operator role',
  'GET /console/cases.csv': 'The case list as CSV (ids, districts, stages): the handler checks the session and the operator role',
  'GET /console/cases/{caseId}': "A case's timeline: the handler checks the session and the operator role",
  'GET /console/executions/{machine}/{name}':
    "An execution's history and graph: the handler checks the session and the operator role",
  'GET /console/attention': 'Failed and waiting journeys: the handler checks the session and the operator role',
  'GET /console/intakes': 'The intakes and their reports: the handler checks the session and the operator role',
  'GET /console/intakes/{name}/report':
    "An intake's report (row numbers, codes, masked NIKs): the handler checks the session and the operator role",
};

export function suppressAcceptedFindings(stack: SuppressedStack): void {
  const bucket = stack.data.bucket;
  const object = (pattern: string) => resourceFinding(bucket, bucket.arnForObjects(pattern));

  for (const [id, fn] of Object.entries(stack.functions)) {
    const role = fn.role as Role;
    iam5(role, XRAY, ['Resource::*']);
    if (id === 'ReadProposal') {
      iam5(
        role,
        'Uploads are named by district office and file, reports after their upload, journeys lists by upload id: the grant names the prefix and suffix',
        [object(UPLOADS), ...INTAKE_OUTPUTS.map(object)],
      );
    }
    if (id === 'Pages') {
      iam5(
        role,
        "An officer's checks are named by a random id, uploads by district office and file: the grant names the prefixes, and lists only proposals/",
        [object(CHECKS), object(UPLOADS)],
      );
    }
    if (id === 'Console') {
      iam5(
        role,
        "Executions are named by case (<caseId>, <caseId>-r2 …) and by upload at their start: the grant names the journey's and the intake's executions only (read, never stopped), and StartExecution the journey alone",
        [stack.journey, stack.intake].map((m) => resourceFinding(m, stack.executionsArn(m))),
      );
      iam5(
        role,
        'Reports are named after their upload (district office and file): the grant reads proposals/*.report.csv, none of the uploads themselves',
        [object(`${UPLOADS}.report.csv`)],
      );
    }
  }

  iam5(stack.journey.role, LOG_DELIVERY, ['Resource::*']);
  iam5(stack.intake.role, LOG_DELIVERY, ['Resource::*']);
  iam5(stack.intake.role, 'The Distributed Map reads the journeys list of whichever upload it runs for (intake/<uploadId>/)', [
    object(JOURNEYS_LISTS),
  ]);
  iam5(stack.intake.role, 'Map Run result files are named by Step Functions under the ResultWriter prefix', [
    object(`${START_JOURNEYS_RESULTS}*`),
  ]);
  iam5(
    stack.intake.role,
    "The Distributed Map's child executions are named by Step Functions; DescribeExecution/StopExecution/RedriveExecution (a redriven Map Run) need them",
    [resourceFinding(stack.intake, stack.intakeExecutionsArn)],
  );

  for (const machine of [stack.journey, stack.intake]) {
    NagSuppressions.addResourceSuppressions(machine, [
      {
        id: 'AwsSolutions-SF1',
        reason:
          'Logs ERROR level without execution data on purpose: the logs outlive the case and reach more readers (privacy, UU PDP)',
      },
    ]);
  }

  for (const { declared, route } of stack.pagesRoutes) {
    if (declared.person) continue;
    const key = `${declared.method} ${declared.path}`;
    const reason = OPEN_ROUTES[key];
    if (!reason) throw new Error(`nag-suppressions: the open route ${key} needs its reason in OPEN_ROUTES, or person: true`);
    NagSuppressions.addResourceSuppressions(route, [{ id: 'AwsSolutions-APIG4', reason }]);
  }

  NagSuppressions.addResourceSuppressions(stack.signIn.userPool, [
    {
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional (TOTP for password users): Cognito offers the emailed one-time code as a first factor only when MFA is not required, and approvers, mentors and lenders sign in with that code',
    },
  ]);

  NagSuppressions.addResourceSuppressions(stack.data.secret, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'The program secret derives NIK hashes, sealing keys and link signatures: rotating it would orphan every claim and sealed field',
    },
  ]);

  NagSuppressions.addResourceSuppressions(stack.node.findChild('UndeliveredUploads'), [
    { id: 'AwsSolutions-SQS3', reason: "This queue is itself the dead-letter queue of the upload rule's intake target" },
  ]);

  // CDK's own handler that configures the bucket's EventBridge notifications at deploy time: its role is not ours to shape.
  for (const handler of stack.node.children.filter((c) => c.node.id.startsWith('BucketNotificationsHandler'))) {
    NagSuppressions.addResourceSuppressions(
      handler,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'CDK-internal deploy-time handler (bucket notifications); CDK creates its role and offers no way to replace the policy',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
        },
      ],
      true,
    );
  }
}
