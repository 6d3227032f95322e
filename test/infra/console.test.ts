/**
 * The operators' console on AWS: its routes reach its own Lambda and no other, its POSTs
 * pass the session authorizer (which lets only operators through) and its GETs are open
 * with a reason; its role reads the two state machines' executions and starts journeys,
 * which no other function may, with exactly the table access infra/permissions.ts
 * declares. And the funnel counters: every function that writes a case may add to its
 * district's counter item (the same TransactWriteItems), and no other may.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_ROUTES } from '#web/routes';
import { FUNCTIONS, type FunctionId } from '../../infra/functions.ts';
import { OPEN_ROUTES } from '../../infra/nag-suppressions.ts';
import { allStatements, type CfnResource, evaluate, logicalId, permissionsOf, render, synthProkus } from './synth.ts';

const { stack, json } = synthProkus();
const ids = Object.keys(FUNCTIONS) as FunctionId[];
const fnId = (id: FunctionId) => logicalId(stack, stack.functions[id]);
const roleOf = (id: FunctionId) => logicalId(stack, stack.functions[id].role!);
const tableId = logicalId(stack, stack.data.table);
const keyId = logicalId(stack, stack.data.key);
const bucketId = logicalId(stack, stack.data.bucket);
const journeyId = logicalId(stack, stack.journey);
const intakeId = logicalId(stack, stack.intake);
const statements = allStatements(json);
const statementsOf = (id: FunctionId) => statements.filter((s) => s.roles.includes(`{${roleOf(id)}}`));
const leadingKeysOf = (s: { condition: Record<string, Record<string, unknown>> }) =>
  s.condition['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined;
const resourcesOf = (type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);

const consoleRoutes = PAGE_ROUTES.filter((r) => r.fn === 'Console');
const routeResources = new Map(
  resourcesOf('AWS::ApiGatewayV2::Route').map(([, r]) => {
    const p = r.Properties as { RouteKey: string; AuthorizationType?: string; AuthorizerId?: unknown; Target: unknown };
    return [p.RouteKey, { ...p, metadata: (r as CfnResource & { Metadata?: unknown }).Metadata }];
  }),
);

/** An IAM resource pattern (`*` any characters, `?` one) as a RegExp. */
const iamPattern = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** The values CloudFormation would give the references in a policy, in one account and region. */
const ACCOUNT = { 'AWS::Partition': 'aws', 'AWS::Region': 'ap-southeast-3', 'AWS::AccountId': '111122223333' };
const machineArn = (name: string) => `arn:aws:states:ap-southeast-3:111122223333:stateMachine:${name}`;
const refs: Record<string, string> = {
  ...ACCOUNT,
  [journeyId]: machineArn('ProkusTest-Journey'),
  [intakeId]: machineArn('ProkusTest-Intake'),
};

describe("the console's routes", () => {
  it('are the routes of functions/web/routes.ts under /console, and each names the Console function', () => {
    expect(consoleRoutes.length).toBeGreaterThan(0);
    for (const r of PAGE_ROUTES) expect(r.fn === 'Console', `${r.method} ${r.path}`).toBe(r.path.startsWith('/console'));
  });

  it('the Console function may be invoked by API Gateway for its own routes only, the Pages function never for them', () => {
    const invokers = (id: FunctionId) =>
      resourcesOf('AWS::Lambda::Permission')
        .map(([, p]) => p.Properties as { FunctionName: unknown; Principal: string; SourceArn: unknown })
        .filter((p) => render(p.FunctionName) === `{${fnId(id)}.Arn}`);
    const apiId = logicalId(stack, stack.pagesApi);
    const consoleInvokers = invokers('Console');
    expect(consoleInvokers.every((p) => p.Principal === 'apigateway.amazonaws.com')).toBe(true);
    const arnOfRoute = (path: string) => `arn:{AWS::Partition}:execute-api:{AWS::Region}:{AWS::AccountId}:{${apiId}}/*/*${path}`;
    expect(consoleInvokers.map((p) => render(p.SourceArn)).sort()).toEqual(
      [...new Set(consoleRoutes.map((r) => arnOfRoute(r.path)))].sort(),
    );
    expect(
      invokers('Pages')
        .map((p) => render(p.SourceArn))
        .filter((a) => a.includes('/console')),
    ).toEqual([]);
  });

  it('its POSTs (the search, the resume) pass the session authorizer and are for operators; its GETs are open, each with its reason', () => {
    const authorizerId = resourcesOf('AWS::ApiGatewayV2::Authorizer')[0]?.[0];
    const posts = consoleRoutes.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path).sort()).toEqual(['/console/cases/{caseId}/resume', '/console/search']);
    for (const r of consoleRoutes) {
      const key = `${r.method} ${r.path}`;
      const route = routeResources.get(key);
      expect(route, key).toBeDefined();
      if (r.method === 'POST') {
        expect(r.person, key).toBe(true);
        expect('role' in r && r.role, key).toBe('operator');
        expect(route?.AuthorizationType, key).toBe('CUSTOM');
        expect(route?.AuthorizerId, key).toEqual({ Ref: authorizerId });
        expect(OPEN_ROUTES[key], key).toBeUndefined();
      } else {
        expect(r.person, key).toBe(false);
        expect(route?.AuthorizationType ?? 'NONE', key).toBe('NONE');
        expect(route?.AuthorizerId, key).toBeUndefined();
        // The reason cdk-nag is told for the open route (APIG4), from OPEN_ROUTES.
        expect(OPEN_ROUTES[key], key).toMatch(/operator role/);
        expect(route?.metadata, key).toEqual({
          cdk_nag: { rules_to_suppress: [{ id: 'AwsSolutions-APIG4', reason: OPEN_ROUTES[key] }] },
        });
      }
    }
  });
});

describe("the console's role", () => {
  it('reads the funnel, cases (and resumes them), the claims of one NIK hash, a district by stage, and sessions; nothing else of the table', () => {
    const table = statementsOf('Console').filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(table.map((s) => ({ actions: s.actions.sort(), keys: leadingKeysOf(s), on: s.resources }))).toEqual([
      // readFunnel; the counter a case write adds to
      { actions: ['dynamodb:Query', 'dynamodb:UpdateItem'], keys: ['FUNNEL#*'], on: [`{${tableId}.Arn}`] },
      // the case page and the resume
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], keys: ['CASE#*'], on: [`{${tableId}.Arn}`] },
      // the NIK search
      { actions: ['dynamodb:Query'], keys: ['NIK#*'], on: [`{${tableId}.Arn}`] },
      // the case list: the district index, by district
      { actions: ['dynamodb:Query'], keys: ['DISTRICT#*'], on: [`{${tableId}.Arn}/index/byDistrictStage`] },
      // findSession
      { actions: ['dynamodb:GetItem'], keys: ['SESSION#*'], on: [`{${tableId}.Arn}`] },
    ]);
    // The data key only through DynamoDB, and S3 for the reports.
    const kms = statementsOf('Console').filter((s) => s.resources.includes(`{${keyId}.Arn}`));
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) {
      expect(['dynamodb.{AWS::Region}.amazonaws.com', 's3.{AWS::Region}.amazonaws.com']).toContain(
        s.condition.StringEquals?.['kms:ViaService'],
      );
    }
  });

  it('lists both machines, reads their executions, starts journeys only; of the bucket the intake reports only; no mail, no task answers', () => {
    const sfn = statementsOf('Console').filter((s) => s.actions.some((a) => a.startsWith('states:')));
    const byAction = (action: string) =>
      sfn
        .filter((s) => s.actions.includes(action))
        .flatMap((s) => s.resources)
        .sort();
    expect([...new Set(sfn.flatMap((s) => s.actions))].sort()).toEqual([
      'states:DescribeExecution',
      'states:DescribeStateMachineForExecution',
      'states:GetExecutionHistory',
      'states:ListExecutions',
      'states:StartExecution',
    ]);
    expect(byAction('states:ListExecutions')).toEqual([`{${intakeId}}`, `{${journeyId}}`].sort());
    expect(byAction('states:StartExecution')).toEqual([`{${journeyId}}`]);
    const executionArns = (action: string) =>
      sfn.filter((s) => s.actions.includes(action)).flatMap((s) => evaluateResources(s.policy, action));
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:DescribeStateMachineForExecution']) {
      expect(executionArns(action).sort(), action).toEqual([
        'arn:aws:states:ap-southeast-3:111122223333:execution:ProkusTest-Intake:*',
        'arn:aws:states:ap-southeast-3:111122223333:execution:ProkusTest-Journey:*',
      ]);
    }
    // No wildcard resource beyond X-Ray's.
    for (const s of statementsOf('Console').filter((t) => t.resources.includes('*'))) {
      expect(
        s.actions.every((a) => a.startsWith('xray:')),
        s.actions.join(),
      ).toBe(true);
    }
    const actions = permissionsOf(json, roleOf('Console')).map((p) => p.action);
    expect(actions.filter((a) => /^(ses|sesv2|lambda|sqs|sns):/.test(a))).toEqual([]);
    const s3 = statementsOf('Console').filter((t) => t.actions.some((a) => a.startsWith('s3:')));
    expect(s3.map((t) => ({ actions: t.actions, on: t.resources }))).toEqual([
      { actions: ['s3:GetObject'], on: [`{${bucketId}.Arn}/proposals/*.report.csv`] },
    ]);
    expect(actions.filter((a) => /^states:(SendTask|StopExecution|RedriveExecution)/.test(a))).toEqual([]);
  });

  it("the executions the handler names (functions/console/executions.ts) are within the grant, another machine's are not", async () => {
    const env = consoleEnv();
    process.env.JOURNEY_STATE_MACHINE_ARN = evaluate(env.JOURNEY_STATE_MACHINE_ARN, refs);
    process.env.INTAKE_STATE_MACHINE_ARN = evaluate(env.INTAKE_STATE_MACHINE_ARN, refs);
    const { executionArn } = await import('#console/executions');
    const granted = statementsOf('Console')
      .filter((s) => s.actions.includes('states:GetExecutionHistory'))
      .flatMap((s) => evaluateResources(s.policy, 'states:GetExecutionHistory'))
      .map(iamPattern);
    const allowed = (arn: string) => granted.some((p) => p.test(arn));
    expect(allowed(executionArn('journey', 'c-2026-3204-0001'))).toBe(true);
    expect(allowed(executionArn('journey', 'c-2026-3204-0001-r2'))).toBe(true);
    expect(allowed(executionArn('intake', 'upload-01J9Z3'))).toBe(true);
    expect(allowed('arn:aws:states:ap-southeast-3:111122223333:execution:OtherStack-Journey:c-1')).toBe(false);
    expect(allowed('arn:aws:states:ap-southeast-3:444455556666:execution:ProkusTest-Journey:c-1')).toBe(false);
  });

  it('knows the two machines by their ARNs, set on it alone; it answers within API Gateway’s 30 s', () => {
    const env = consoleEnv();
    expect(render(env.JOURNEY_STATE_MACHINE_ARN)).toBe(`{${journeyId}}`);
    expect(render(env.INTAKE_STATE_MACHINE_ARN)).toBe(`{${intakeId}}`);
    for (const id of ids.filter((i) => i !== 'Console')) {
      const vars = Object.keys(envOf(id));
      expect(
        vars.filter((v) => v.endsWith('_STATE_MACHINE_ARN')),
        id,
      ).toEqual([]);
    }
    expect(resourceOf(fnId('Console')).Properties).toMatchObject({ Timeout: 25, MemorySize: 1024 });
  });
});

describe('executions', () => {
  const READS = /^states:(ListExecutions|DescribeExecution|GetExecutionHistory|DescribeStateMachineForExecution)$/;

  it('no function but the console reads executions', () => {
    for (const id of ids) {
      const reads = permissionsOf(json, roleOf(id)).filter((p) => READS.test(p.action));
      expect(reads.length > 0, id).toBe(id === 'Console');
    }
    // Beyond the functions: only the intake's own role, for its Distributed Map's children.
    const others = statements.filter((s) => s.actions.some((a) => READS.test(a)) && !s.roles.includes(`{${roleOf('Console')}}`));
    expect(others.map((s) => ({ roles: s.roles, actions: s.actions, resources: s.resources }))).toEqual([
      {
        roles: [`{${logicalId(stack, stack.intake.role)}}`],
        actions: ['states:DescribeExecution', 'states:RedriveExecution', 'states:StopExecution'],
        resources: ['arn:{AWS::Partition}:states:{AWS::Region}:{AWS::AccountId}:execution:ProkusTest-Intake/*'],
      },
    ]);
  });

  it('journeys are started by the intake and the console only', () => {
    const journeyArns = [
      `{${journeyId}}`,
      'arn:{AWS::Partition}:states:{AWS::Region}:{AWS::AccountId}:stateMachine:ProkusTest-Journey',
    ];
    const starters = statements
      .filter((s) => s.actions.includes('states:StartExecution') && s.resources.some((r) => journeyArns.includes(r)))
      .flatMap((s) => s.roles)
      .sort();
    expect(starters).toEqual([`{${logicalId(stack, stack.intake.role)}}`, `{${roleOf('Console')}}`].sort());
    for (const id of ids.filter((i) => i !== 'Console')) {
      expect(
        permissionsOf(json, roleOf(id)).filter((p) => p.action === 'states:StartExecution'),
        id,
      ).toEqual([]);
    }
  });
});

describe('the funnel counters', () => {
  /** The functions whose handlers write cases (infra/permissions.ts): each write adds to the funnel. */
  const CASE_WRITERS: FunctionId[] = [
    'LoadCase',
    'Verification',
    'OpenRequest',
    'AwaitRequest',
    'Disbursement',
    'Grading',
    'FinancingReferral',
    'Close',
    'RecordFailure',
    'ReadProposal',
    'Pages',
    'Console',
  ];
  const grants = (id: FunctionId) =>
    statementsOf(id)
      .filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')))
      .flatMap((s) => s.actions.flatMap((a) => (leadingKeysOf(s) ?? []).map((k) => `${a} ${k}`)));

  it('the functions that may write a case are exactly those that write cases', () => {
    const writers = ids.filter((id) => grants(id).some((g) => /^dynamodb:(PutItem|UpdateItem) CASE#\*$/.test(g)));
    expect(writers.sort()).toEqual([...CASE_WRITERS].sort());
  });

  it('each of them may add to the counter item (UpdateItem FUNNEL#), PlanMentoring and the authorizer may not', () => {
    for (const id of CASE_WRITERS) expect(grants(id), id).toContain('dynamodb:UpdateItem FUNNEL#*');
    for (const id of ['PlanMentoring', 'Authorize'] as const) {
      expect(
        grants(id).filter((g) => g.includes('FUNNEL#')),
        id,
      ).toEqual([]);
    }
  });

  it('no function creates or deletes a counter item; only the console reads them', () => {
    for (const id of ids) {
      const funnel = grants(id).filter((g) => g.endsWith(' FUNNEL#*'));
      expect(
        funnel.filter((g) => !g.startsWith('dynamodb:UpdateItem')),
        id,
      ).toEqual(id === 'Console' ? ['dynamodb:Query FUNNEL#*'] : []);
    }
  });
});

function resourceOf(logical: string): CfnResource {
  const r = json.Resources[logical];
  if (!r) throw new Error(`no resource ${logical}`);
  return r;
}

function envOf(id: FunctionId): Record<string, unknown> {
  return (resourceOf(fnId(id)).Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
}

function consoleEnv(): { JOURNEY_STATE_MACHINE_ARN: unknown; INTAKE_STATE_MACHINE_ARN: unknown } {
  const env = envOf('Console');
  return { JOURNEY_STATE_MACHINE_ARN: env.JOURNEY_STATE_MACHINE_ARN, INTAKE_STATE_MACHINE_ARN: env.INTAKE_STATE_MACHINE_ARN };
}

/** The resources of one policy's statements that allow `action`, evaluated as CloudFormation would. */
function evaluateResources(policy: string, action: string): string[] {
  const props = resourceOf(policy).Properties as { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
  return props.PolicyDocument.Statement.filter((s) => [s.Action].flat().includes(action)).flatMap((s) =>
    [s.Resource].flat().map((r) => evaluate(r, refs)),
  );
}
