import { readFileSync } from 'node:fs';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PAGE_ROUTES } from '../../functions/web/routes.ts';
import { aslPlaceholders } from '../../infra/constructs/asl-state-machine.ts';
import { FUNCTIONS, type FunctionId } from '../../infra/functions.ts';
import { FUNCTION_PERMISSIONS } from '../../infra/permissions.ts';
import { functionsOf } from '../../workflows/functions.ts';
import { allStatements, logicalId, permissionsOf, render, SENDER, stagedDefinition, synthProkus } from './synth.ts';

const { app, stack, template, json } = synthProkus();
const ids = Object.keys(FUNCTIONS) as FunctionId[];
const fnId = (id: FunctionId) => logicalId(stack, stack.functions[id]);
const roleOf = (id: FunctionId) => logicalId(stack, stack.functions[id].role!);
const journeyId = logicalId(stack, stack.journey);
const intakeId = logicalId(stack, stack.intake);
const arn = (service: string, resource: string) => `arn:{AWS::Partition}:${service}:{AWS::Region}:{AWS::AccountId}:${resource}`;

function resourceOf(logical: string) {
  const r = json.Resources[logical];
  if (!r) throw new Error(`no resource ${logical}`);
  return r;
}

describe('Lambda functions', () => {
  it('one per entry file, each Node.js 24 on arm64 with X-Ray tracing and source maps', () => {
    for (const id of ids) {
      expect(resourceOf(fnId(id)).Properties).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
      });
    }
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs24.x' }, ids.length);
  });

  it('every function gets the table, bucket, secret, mail addresses, pages URL, log level and the Powertools names; the console also the state machines', () => {
    const data = stack.node.findChild('Data');
    const tableId = logicalId(stack, data.node.findChild('Cases'));
    const secretId = logicalId(stack, data.node.findChild('ProgramSecret'));
    const bucketId = logicalId(stack, data.node.findChild('Files'));
    const apiId = logicalId(stack, stack.node.findChild('PagesApi'));
    const poolId = logicalId(stack, stack.signIn.userPool);
    const clientId = logicalId(stack, stack.signIn.client);
    for (const id of ids) {
      const env = (resourceOf(fnId(id)).Properties as { Environment: { Variables: Record<string, unknown> } }).Environment
        .Variables;
      expect(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, render(v)]))).toEqual({
        TABLE_NAME: `{${tableId}}`,
        BUCKET_NAME: `{${bucketId}}`,
        SECRET_ID: `{${secretId}}`,
        MAIL_FROM: SENDER,
        PAGES_URL: `{${apiId}.ApiEndpoint}`,
        LOG_LEVEL: 'info',
        // The user pool's issuer and the pages' app client (infra/constructs/sign-in.ts).
        OIDC_ISSUER: `https://cognito-idp.{AWS::Region}.amazonaws.com/{${poolId}}`,
        OIDC_CLIENT_ID: `{${clientId}}`,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'prokus',
        POWERTOOLS_METRICS_NAMESPACE: 'Prokus',
        // The executions the operators' console shows and the journeys it resumes (on the task
        // functions they would be a dependency cycle: the state machines name those functions).
        ...(id === 'Console' ? { JOURNEY_STATE_MACHINE_ARN: `{${journeyId}}`, INTAKE_STATE_MACHINE_ARN: `{${intakeId}}` } : {}),
      });
    }
  });

  it('ReadProposal can take a whole file: 15 minutes and 1 GB; the others stay under their task timeouts', () => {
    expect(resourceOf(fnId('ReadProposal')).Properties).toMatchObject({ MemorySize: 1024, Timeout: 900 });
    // The upload page's check reads a whole file too, within API Gateway's 30 s.
    expect(resourceOf(fnId('Pages')).Properties).toMatchObject({ MemorySize: 1024, Timeout: 25 });
    for (const id of ids.filter((i) => i !== 'ReadProposal')) {
      // The journey's task states time out after 60 s; a Lambda timeout above it would be retried while still running.
      expect((resourceOf(fnId(id)).Properties as { Timeout: number }).Timeout).toBeLessThan(60);
    }
  });

  it('logs go to a log group of their own that keeps them for a month', () => {
    const group = new Capture();
    for (const id of ids) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: FUNCTIONS[id].description,
        LoggingConfig: { LogGroup: { Ref: group } },
      });
      expect(resourceOf(group.asString()).Type).toBe('AWS::Logs::LogGroup');
      expect(resourceOf(group.asString()).Properties).toMatchObject({ RetentionInDays: 30 });
    }
  });
});

describe('state machines', () => {
  it('journey and intake are Standard, traced, and log errors without execution data', () => {
    for (const [logical, name] of [
      [journeyId, 'ProkusTest-Journey'],
      [intakeId, 'ProkusTest-Intake'],
    ] as const) {
      expect(resourceOf(logical).Properties).toMatchObject({
        StateMachineName: name,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
      });
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/ProkusTest-Journey',
      RetentionInDays: 30,
    });
  });

  for (const [label, file] of [
    ['journey', 'workflows/journey.asl.json'],
    ['intake', 'workflows/intake.asl.json'],
  ] as const) {
    it(`deploys ${file} unchanged, with a value for every \${...} placeholder in it`, () => {
      const machine = label === 'journey' ? stack.journey : stack.intake;
      const props = resourceOf(logicalId(stack, machine)).Properties as {
        DefinitionS3Location: { Key: string };
        DefinitionSubstitutions: Record<string, unknown>;
      };
      const definition = stagedDefinition(app, props.DefinitionS3Location.Key);
      expect(JSON.parse(definition)).toEqual(JSON.parse(readFileSync(file, 'utf8')));

      // What CloudFormation does with DefinitionSubstitutions: nothing of ours may be left over.
      const substituted = definition.replace(/\$\{(\w+)\}/g, (whole, name: string) =>
        name in props.DefinitionSubstitutions ? render(props.DefinitionSubstitutions[name]) : whole,
      );
      expect(substituted).not.toMatch(/\$\{\w+\}/);
      expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(aslPlaceholders(file));
    });
  }

  it('each function placeholder resolves to that function, the intake to the journey', () => {
    const journey = resourceOf(journeyId).Properties as { DefinitionSubstitutions: Record<string, unknown> };
    for (const id of functionsOf('journey')) {
      expect(render(journey.DefinitionSubstitutions[`${id}FunctionArn`])).toBe(`{${fnId(id)}.Arn}`);
    }
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'ProkusTest-Intake',
      DefinitionSubstitutions: {
        ReadProposalFunctionArn: { 'Fn::GetAtt': [fnId('ReadProposal'), 'Arn'] },
        JourneyStateMachineArn: { Ref: journeyId },
      },
    });
  });
});

describe('data', () => {
  it('the case table: pk/sk, on demand, point-in-time recovery, our KMS key, the district/stage index, retained', () => {
    const key = new Capture();
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byDistrictStage',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            // The upload page's count of an upload's families per stage: keys and the outcome only.
            IndexName: 'byUploadStage',
            KeySchema: [
              { AttributeName: 'gsi2pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['outcome'] },
          },
        ],
      }),
    });
    expect(resourceOf(key.asString())).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
  });

  it('the bucket: KMS encrypted, no public access, TLS only, versioned, retained, events to EventBridge', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  it('sessions and sign-ins under way expire on their own: the table deletes items by their `ttl` (epoch seconds)', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it("the officers' browsers may POST files to the bucket from the pages' origin only", () => {
    const bucket = logicalId(stack, stack.data.bucket);
    const apiId = logicalId(stack, stack.pagesApi);
    const cors = (resourceOf(bucket).Properties as { CorsConfiguration: { CorsRules: Record<string, unknown>[] } })
      .CorsConfiguration.CorsRules;
    expect(cors).toHaveLength(1);
    const [rule] = cors as [Record<string, unknown>];
    // S3 answers the browser's preflight (OPTIONS) from this same rule.
    expect(rule.AllowedMethods).toEqual(['POST']);
    expect((rule.AllowedOrigins as unknown[]).map(render)).toEqual([`{${apiId}.ApiEndpoint}`]);
    // No other bucket answers a browser at all.
    const others = Object.entries(json.Resources).filter(([id, r]) => r.Type === 'AWS::S3::Bucket' && id !== bucket);
    expect(others.length).toBeGreaterThan(0);
    for (const [, r] of others) expect(r.Properties?.CorsConfiguration).toBeUndefined();
  });

  it('a check never submitted (checks/) is gone after a day, every version of it; replaced uploads keep 90 days', () => {
    const bucket = logicalId(stack, stack.data.bucket);
    const rules = (resourceOf(bucket).Properties as { LifecycleConfiguration: { Rules: Record<string, unknown>[] } })
      .LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' }),
        expect.objectContaining({
          Prefix: 'checks/',
          ExpirationInDays: 1,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ]),
    );
    // Nothing outside checks/ expires: the uploads and their reports are the program's records.
    for (const rule of rules) if (rule.ExpirationInDays !== undefined) expect(rule.Prefix).toBe('checks/');
  });

  it('the program secret is generated, long, retained, and readable by every function that loads the keys, the authorizer excepted', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        GenerateSecretString: Match.objectLike({ PasswordLength: Match.anyValue(), ExcludePunctuation: true }),
      }),
    });
    const secret = logicalId(stack, stack.node.findChild('Data').node.findChild('ProgramSecret'));
    const length = (resourceOf(secret).Properties as { GenerateSecretString: { PasswordLength: number } }).GenerateSecretString
      .PasswordLength;
    expect(length).toBeGreaterThanOrEqual(48);
    for (const id of ids) {
      const reads = permissionsOf(json, roleOf(id)).filter((p) => p.action.startsWith('secretsmanager:'));
      expect(reads, id).toEqual(
        FUNCTION_PERMISSIONS[id].readsSecret ? [{ action: 'secretsmanager:GetSecretValue', resource: `{${secret}}` }] : [],
      );
    }
    // The authorizer only looks up a session: it holds no key.
    expect(FUNCTION_PERMISSIONS.Authorize.readsSecret).toBe(false);
    expect(ids.filter((id) => FUNCTION_PERMISSIONS[id].readsSecret)).toHaveLength(ids.length - 1);
  });
});

describe('mail', () => {
  it('the sender address is an SES identity; only the functions that send mail may send, and only as it', () => {
    const identity = logicalId(stack, stack.node.findChild('Sender'));
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: SENDER });
    const senderArn = arn('ses', `identity/{${identity}}`);
    // The pages only record decisions; the links they serve were mailed by OpenRequest.
    const senders: FunctionId[] = ['OpenRequest', 'ReadProposal'];
    for (const id of ids) {
      const ses = permissionsOf(json, roleOf(id)).filter((p) => p.action.startsWith('ses:'));
      if (senders.includes(id)) {
        expect(ses).toEqual(
          expect.arrayContaining([
            { action: 'ses:SendEmail', resource: senderArn },
            { action: 'ses:SendRawEmail', resource: senderArn },
          ]),
        );
        expect(ses.every((p) => p.resource === senderArn)).toBe(true);
      } else {
        expect(ses).toEqual([]);
      }
    }
  });
});

describe('pages', () => {
  it('every route of functions/web/routes.ts, and only those, reaches the function its `fn` names, and no other', () => {
    const routes = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties as { RouteKey: string; Target: unknown });
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(PAGE_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(routes.map((r) => r.RouteKey)).toEqual(
      expect.arrayContaining(['GET /health', 'GET /r/{token}', 'POST /r/{token}', 'GET /auth/callback', 'GET /console']),
    );
    // One proxy integration per function behind the API: the pages and the operators' console.
    const integrations = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(2);
    const functionOf = new Map(
      integrations.map(([id, r]) => {
        expect(r.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
        return [`integrations/{${id}}`, render((r.Properties as { IntegrationUri: unknown }).IntegrationUri)];
      }),
    );
    expect([...functionOf.values()].sort()).toEqual([`{${fnId('Console')}.Arn}`, `{${fnId('Pages')}.Arn}`].sort());
    for (const declared of PAGE_ROUTES) {
      const key = `${declared.method} ${declared.path}`;
      const route = routes.find((r) => r.RouteKey === key);
      expect(functionOf.get(render(route?.Target)), key).toBe(`{${fnId(declared.fn)}.Arn}`);
    }
    expect(new Set(PAGE_ROUTES.map((r) => r.fn))).toEqual(new Set(['Pages', 'Console']));
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true });
  });
});

describe('permissions', () => {
  it('the journey may invoke its ten functions and the intake ReadProposal, nothing else', () => {
    const invokes = (machine: string) =>
      permissionsOf(json, logicalId(stack, (machine === 'journey' ? stack.journey : stack.intake).role))
        .filter((p) => p.action === 'lambda:InvokeFunction')
        .map((p) => p.resource)
        .filter((r) => r.endsWith('.Arn}'))
        .sort();
    const journeyFns = functionsOf('journey');
    expect(journeyFns).toHaveLength(10);
    expect(invokes('journey')).toEqual(journeyFns.map((i) => `{${fnId(i)}.Arn}`).sort());
    expect(invokes('intake')).toEqual([`{${fnId('ReadProposal')}.Arn}`]);
  });

  it('the intake starts journeys, reads the journeys list, runs its Distributed Map on itself and may redrive its Map Run', () => {
    const intake = permissionsOf(json, logicalId(stack, stack.intake.role));
    const bucketId = logicalId(stack, stack.node.findChild('Data').node.findChild('Files'));
    expect(intake).toEqual(
      expect.arrayContaining([
        { action: 'states:StartExecution', resource: `{${journeyId}}` },
        { action: 'states:StartExecution', resource: arn('states', 'stateMachine:ProkusTest-Intake') },
        { action: 'states:DescribeExecution', resource: arn('states', 'execution:ProkusTest-Intake/*') },
        { action: 'states:StopExecution', resource: arn('states', 'execution:ProkusTest-Intake/*') },
        // A redrive of the intake redrives the Map Run's failed child executions as this role.
        { action: 'states:RedriveExecution', resource: arn('states', 'execution:ProkusTest-Intake/*') },
        { action: 's3:GetObject', resource: `{${bucketId}.Arn}/intake/*/journeys.json` },
        { action: 's3:PutObject', resource: `{${bucketId}.Arn}/intake/start-journeys/*` },
      ]),
    );
    // Nothing of the bucket beyond the journeys lists and the Map Run results.
    const s3 = intake.filter((p) => p.action.startsWith('s3:'));
    expect(s3.every((p) => p.resource.endsWith('/journeys.json') || p.resource.includes('/intake/start-journeys/'))).toBe(true);
  });

  it('the approval pages and AwaitRequest may answer the journey’s waiting tasks, and no other function may', () => {
    const journeyArn = arn('states', 'stateMachine:ProkusTest-Journey');
    for (const id of ids) {
      const responses = permissionsOf(json, roleOf(id)).filter((p) => /^states:SendTask/.test(p.action));
      if (id === 'Pages' || id === 'AwaitRequest') {
        // settleTask reports success or failure; nothing sends heartbeats.
        expect(responses.map((p) => p.action).sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
        expect(responses.every((p) => p.resource === journeyArn)).toBe(true);
      } else {
        expect(responses).toEqual([]);
      }
    }
  });

  it("only ReadProposal (its reports) and the Pages (the officers' uploads) write to the bucket", () => {
    for (const id of ids) {
      const puts = permissionsOf(json, roleOf(id)).filter((p) => p.action === 's3:PutObject');
      expect(puts.length > 0, id).toBe(id === 'ReadProposal' || id === 'Pages');
    }
  });

  it('no statement allows every action, and "*" resources only for X-Ray and log delivery, which have no others', () => {
    const wildcardOk =
      /^(xray:|logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery)$)/;
    const statements = allStatements(json);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
      if (s.resources.includes('*')) expect(s.actions.filter((a) => !wildcardOk.test(a))).toEqual([]);
    }
  });
});

describe('operations', () => {
  it('a dashboard shows executions per state machine', () => {
    const body = new Capture();
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: body });
    const text = render(body.asObject());
    for (const metric of ['ExecutionsStarted', 'ExecutionsFailed', 'ExecutionsTimedOut']) expect(text).toContain(metric);
    expect(text).toContain(`{${journeyId}}`);
    expect(text).toContain(`{${intakeId}}`);
  });

  it('outputs what an operator needs: bucket, table, state machines, pages URL, user pool and sign-in URL', () => {
    for (const output of [
      'BucketName',
      'TableName',
      'JourneyStateMachineArn',
      'IntakeStateMachineArn',
      'PagesUrl',
      'UserPoolId',
      'SignInUrl',
    ]) {
      template.hasOutput(output, { Value: Match.anyValue() });
    }
    template.hasOutput('JourneyStateMachineArn', { Value: { Ref: journeyId } });
  });
});
