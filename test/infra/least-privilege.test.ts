/**
 * What each function's role may do with the data, beyond what cdk-nag checks: the table by
 * item kind, the bucket by key pattern, the KMS key only through the service holding the
 * data; and the logs that record access without recording personal data.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { DataAccessError, grantListing, grantTableAccess } from '../../infra/constructs/data-access.ts';
import { FUNCTIONS, type FunctionId } from '../../infra/functions.ts';
import { FUNCTION_PERMISSIONS } from '../../infra/permissions.ts';
import { allStatements, logicalId, permissionsOf, render, synthProkus } from './synth.ts';

const { stack, template, json } = synthProkus();
const ids = Object.keys(FUNCTIONS) as FunctionId[];
const roleOf = (id: FunctionId) => logicalId(stack, stack.functions[id].role!);
const tableId = logicalId(stack, stack.data.table);
const bucketId = logicalId(stack, stack.data.bucket);
const keyId = logicalId(stack, stack.data.key);
const statements = allStatements(json);
const statementsOf = (id: FunctionId) => statements.filter((s) => s.roles.includes(`{${roleOf(id)}}`));
const leadingKeysOf = (s: { condition: Record<string, Record<string, unknown>> }) =>
  s.condition['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];

describe('the case table', () => {
  it("the internet-facing Pages function reads and updates cases, requests, the quota and the family grant hold, adds a decision to the district's funnel counters, keeps sessions and sign-ins, the upload checks, and counts an upload by its index; nothing else", () => {
    const actions = permissionsOf(json, roleOf('Pages')).map((p) => p.action);
    for (const never of ['dynamodb:Scan', 'dynamodb:BatchWriteItem', 'ses:SendEmail']) {
      expect(actions).not.toContain(never);
    }
    const table = statementsOf('Pages').filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(table.map((s) => ({ actions: s.actions.sort(), keys: leadingKeysOf(s), on: s.resources }))).toEqual([
      {
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        keys: ['CASE#*', 'REQUEST#*', 'QUOTA#*'],
        on: [`{${tableId}.Arn}`],
      },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], keys: ['KK#*'], on: [`{${tableId}.Arn}`] },
      // a decision's case write adds to the district's funnel counters (the same transaction); never reads them
      { actions: ['dynamodb:UpdateItem'], keys: ['FUNNEL#*'], on: [`{${tableId}.Arn}`] },
      // createSession, findSession, endSession (sign-out)
      { actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], keys: ['SESSION#*'], on: [`{${tableId}.Arn}`] },
      // savePendingSignIn, takePendingSignIn
      { actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], keys: ['SIGNIN#*'], on: [`{${tableId}.Arn}`] },
      // the upload page's checks (store/checks.ts)
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], keys: ['CHECK#*'], on: [`{${tableId}.Arn}`] },
      // uploadProgress: only the upload index, only by upload
      { actions: ['dynamodb:Query'], keys: ['UPLOAD#*'], on: [`{${tableId}.Arn}/index/byUploadStage`] },
    ]);
    // Never a case, a request or a claim created or deleted from the internet-facing function
    // (an upload check is created, never deleted).
    for (const s of table.filter((t) => t.actions.some((a) => /PutItem|DeleteItem/.test(a)))) {
      expect(leadingKeysOf(s)).toEqual(expect.arrayContaining([expect.stringMatching(/^(SESSION|SIGNIN|CHECK)#\*$/)]));
      expect((leadingKeysOf(s) as string[]).every((k) => /^(SESSION|SIGNIN|CHECK)#\*$/.test(k))).toBe(true);
      if ((leadingKeysOf(s) as string[]).includes('CHECK#*')) expect(s.actions).not.toContain('dynamodb:DeleteItem');
    }
  });

  it('the authorizer reads sessions, and nothing else of the table', () => {
    const table = statementsOf('Authorize').filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(table.map((s) => ({ actions: s.actions, keys: leadingKeysOf(s) }))).toEqual([
      { actions: ['dynamodb:GetItem'], keys: ['SESSION#*'] },
    ]);
    const kms = statementsOf('Authorize').filter((s) => s.resources.includes(`{${keyId}.Arn}`));
    expect(kms.flatMap((s) => s.actions).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
  });

  it('every table statement names its actions and the item kinds (LeadingKeys) it may touch', () => {
    const table = statements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(table.length).toBeGreaterThan(ids.length - 1);
    for (const s of table) {
      expect(
        s.actions.every((a) => /^dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem|Query)$/.test(a)),
        s.actions.join(),
      ).toBe(true);
      // Only the table's items, by pk; the upload index by upload (the Pages function's Query,
      // checked above) and the district index by district (the console's case list), each a Query.
      const index = /\/index\/(byUploadStage|byDistrictStage)$/.exec(String(s.resources[0]))?.[1];
      expect(s.resources).toEqual([index ? `{${tableId}.Arn}/index/${index}` : `{${tableId}.Arn}`]);
      const keys = leadingKeysOf(s);
      expect(Array.isArray(keys) && keys.length > 0, `${s.policy}: ${s.actions.join()} without LeadingKeys`).toBe(true);
      if (index) {
        expect(s.actions).toEqual(['dynamodb:Query']);
        expect(keys).toEqual([index === 'byUploadStage' ? 'UPLOAD#*' : 'DISTRICT#*']);
        expect(s.roles).toEqual([`{${roleOf(index === 'byUploadStage' ? 'Pages' : 'Console')}}`]);
      } else {
        for (const k of keys as string[])
          expect(k).toMatch(/^(CASE|NIK|KK|REGISTRY|REQUEST|QUOTA|UPLOAD|SESSION|SIGNIN|CHECK|FUNNEL)#\*$/);
      }
      expect(s.condition.Null).toEqual({ 'dynamodb:LeadingKeys': 'false' });
    }
  });

  it('each function gets exactly the table access infra/permissions.ts declares for it', () => {
    for (const id of ids) {
      const granted = statementsOf(id)
        .filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')))
        .flatMap((s) => s.actions.flatMap((a) => (leadingKeysOf(s) as string[]).map((k) => `${a} ${k}`)))
        .sort();
      const declared = FUNCTION_PERMISSIONS[id].table
        .flatMap((t) => t.actions.flatMap((a) => t.leadingKeys.map((k) => `dynamodb:${a} ${k}`)))
        .sort();
      expect(granted, id).toEqual([...new Set(declared)]);
    }
  });

  it('only ReadProposal deletes case data, and only the identity claims it gives back; the pages delete only sessions and sign-ins', () => {
    for (const id of ids) {
      const deletes = statementsOf(id).filter((s) => s.actions.includes('dynamodb:DeleteItem'));
      if (id === 'ReadProposal') expect(deletes.map(leadingKeysOf)).toEqual([['NIK#*', 'KK#*']]);
      else if (id === 'Pages') expect(deletes.map(leadingKeysOf)).toEqual([['SESSION#*'], ['SIGNIN#*']]);
      else expect(deletes).toEqual([]);
    }
  });
});

describe('the files bucket', () => {
  it('ReadProposal reads uploads and writes only its reports and journeys lists; it deletes nothing', () => {
    const s3 = permissionsOf(json, roleOf('ReadProposal')).filter((p) => p.action.startsWith('s3:'));
    expect(s3.sort((a, b) => `${a.action}${a.resource}`.localeCompare(`${b.action}${b.resource}`))).toEqual([
      { action: 's3:GetObject', resource: `{${bucketId}.Arn}/proposals/*` },
      { action: 's3:PutObject', resource: `{${bucketId}.Arn}/intake/*/journeys.json` },
      { action: 's3:PutObject', resource: `{${bucketId}.Arn}/proposals/*.report.csv` },
      { action: 's3:PutObject', resource: `{${bucketId}.Arn}/proposals/*.report.json` },
    ]);
  });

  it("the Pages take the officers' uploads: checks/ in (presigned POST), read and delete; the submitted copy under proposals/; a listing of proposals/ only", () => {
    const s3 = permissionsOf(json, roleOf('Pages')).filter((p) => p.action.startsWith('s3:'));
    const sorted = s3.sort((a, b) => `${a.action}${a.resource}`.localeCompare(`${b.action}${b.resource}`));
    expect(sorted).toEqual([
      { action: 's3:DeleteObject', resource: `{${bucketId}.Arn}/checks/*` },
      { action: 's3:GetObject', resource: `{${bucketId}.Arn}/checks/*` },
      { action: 's3:GetObject', resource: `{${bucketId}.Arn}/proposals/*` },
      { action: 's3:ListBucket', resource: `{${bucketId}.Arn}` },
      { action: 's3:PutObject', resource: `{${bucketId}.Arn}/checks/*` },
      { action: 's3:PutObject', resource: `{${bucketId}.Arn}/proposals/*` },
    ]);
    const listing = statementsOf('Pages').filter((s) => s.actions.includes('s3:ListBucket'));
    expect(listing.map((s) => s.condition)).toEqual([{ StringLike: { 's3:prefix': ['proposals/*'] } }]);
    // The uploads are SSE-KMS: reading needs Decrypt, writing GenerateDataKey, both only through S3.
    const kms = statementsOf('Pages').filter(
      (s) => s.resources.includes(`{${keyId}.Arn}`) && s.condition.StringEquals?.['kms:ViaService']?.toString().startsWith('s3.'),
    );
    expect([...new Set(kms.flatMap((s) => s.actions))].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it("the console reads the intakes' reports and nothing else of the bucket", () => {
    expect(permissionsOf(json, roleOf('Console')).filter((p) => p.action.startsWith('s3:'))).toEqual([
      { action: 's3:GetObject', resource: `{${bucketId}.Arn}/proposals/*.report.csv` },
    ]);
  });

  it('no other function touches the bucket', () => {
    for (const id of ids.filter((i) => i !== 'ReadProposal' && i !== 'Pages' && i !== 'Console')) {
      expect(
        permissionsOf(json, roleOf(id)).filter((p) => p.action.startsWith('s3:')),
        id,
      ).toEqual([]);
    }
  });

  it('the data key is usable only through DynamoDB or S3, never directly, and without wildcard actions', () => {
    const kms = statements.filter((s) => s.resources.includes(`{${keyId}.Arn}`));
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) {
      expect(
        s.actions.every((a) => /^kms:(Decrypt|DescribeKey|Encrypt|GenerateDataKey)$/.test(a)),
        s.actions.join(),
      ).toBe(true);
      expect(s.condition.StringEquals?.['kms:ViaService']).toMatch(/^(dynamodb|s3)\.\{AWS::Region\}\.amazonaws\.com$/);
    }
  });

  it('server access logs of the uploads go to a bucket of their own: S3-managed keys, private, TLS only, expiring', () => {
    const logs = logicalId(stack, stack.data.accessLogs);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logs }, LogFilePrefix: 'files/' },
    });
    expect(json.Resources[logs]?.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 365, Status: 'Enabled' }] },
    });
    const policy = Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::S3::BucketPolicy' && render((r.Properties as { Bucket: unknown }).Bucket) === `{${logs}}`,
    );
    expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
  });
});

describe('roles', () => {
  it('no function role carries an AWS managed policy; each writes its own log group only', () => {
    for (const id of ids) {
      expect(json.Resources[roleOf(id)]?.Properties?.ManagedPolicyArns, id).toBeUndefined();
      const logs = permissionsOf(json, roleOf(id)).filter((p) => p.action.startsWith('logs:'));
      expect(logs.map((p) => p.action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(new Set(logs.map((p) => p.resource)).size).toBe(1);
      expect(logs[0]?.resource).toMatch(new RegExp(`^\\{${id}Logs[A-F0-9]{8}\\.Arn\\}$`));
    }
  });

  it('every function but the authorizer reads the program secret and only reads it; the authorizer has no access to it', () => {
    const secret = logicalId(stack, stack.data.secret);
    for (const id of ids) {
      const grants = permissionsOf(json, roleOf(id)).filter((p) => p.action.startsWith('secretsmanager:'));
      expect(grants, id).toEqual(
        id === 'Authorize' ? [] : [{ action: 'secretsmanager:GetSecretValue', resource: `{${secret}}` }],
      );
    }
  });
});

describe('pages access logs', () => {
  it('one JSON line per request, with the route template and no path, query, IP or user agent', () => {
    const stages = Object.values(json.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const props = stages[0]!.Properties as { AccessLogSettings: { DestinationArn: unknown; Format: string } };
    const settings = props.AccessLogSettings;
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format.routeKey).toBe('$context.routeKey');
    expect(format.requestId).toBe('$context.requestId');
    for (const field of ['$context.path', 'sourceIp', 'userAgent', 'querystring', '$context.identity', '$context.domainPrefix']) {
      expect(settings.Format).not.toContain(field);
    }
    const group = render(settings.DestinationArn).replace(/^\{(.*)\.Arn\}$/, '$1');
    expect(json.Resources[group]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });
});

describe('grantTableAccess', () => {
  const fixture = () => {
    const scope = new Stack(new App(), 'Fixture');
    const table = new Table(scope, 'T', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const role = new Role(scope, 'R', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    return { scope, table, role };
  };

  it('a Query on an index is bounded by the index partition key, on the index ARN', () => {
    const { scope, table, role } = fixture();
    grantTableAccess(role, table, { actions: ['Query'], leadingKeys: ['DISTRICT#*'], index: 'byDistrictStage' });
    const [s] = allStatements(Template.fromStack(scope).toJSON() as Parameters<typeof allStatements>[0]);
    expect(s?.actions).toEqual(['dynamodb:Query']);
    expect(s?.resources).toEqual([`{${logicalId(scope, table)}.Arn}/index/byDistrictStage`]);
    expect(s && leadingKeysOf(s)).toEqual(['DISTRICT#*']);
  });

  it('a listing is bounded by key prefix (s3:prefix), on the bucket, and refuses a prefix that is not a folder', () => {
    const { scope, role } = fixture();
    const bucket = new Bucket(scope, 'B');
    grantListing(role, bucket, ['proposals/']);
    const [s] = allStatements(Template.fromStack(scope).toJSON() as Parameters<typeof allStatements>[0]);
    expect(s?.actions).toEqual(['s3:ListBucket']);
    expect(s?.resources).toEqual([`{${logicalId(scope, bucket)}.Arn}`]);
    expect(s?.condition).toEqual({ StringLike: { 's3:prefix': ['proposals/*'] } });
    for (const bad of [[], [''], ['*'], ['proposals'], ['proposals/*']]) {
      expect(() => grantListing(role, bucket, bad), bad.join()).toThrow(DataAccessError);
    }
  });

  it('refuses grants that would not bound anything', () => {
    const { table, role } = fixture();
    expect(() => grantTableAccess(role, table, { actions: ['GetItem'], leadingKeys: ['*'] })).toThrow(DataAccessError);
    expect(() => grantTableAccess(role, table, { actions: ['GetItem'], leadingKeys: [] })).toThrow(DataAccessError);
    expect(() => grantTableAccess(role, table, { actions: ['GetItem'], leadingKeys: ['X#*'], index: 'i' })).toThrow(
      DataAccessError,
    );
  });
});
