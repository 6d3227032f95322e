/**
 * Sign-in on AWS: the Cognito user pool (accounts made by admins, email sign-in with a
 * password or an emailed code, the roles as groups, the districts as a custom attribute),
 * the pages' app client (code + PKCE, public, back to the pages), and the session
 * authorizer on exactly the routes functions/web/routes.ts marks as acting for a person.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Role } from '#domain/person';
import { PAGE_ROUTES } from '#web/routes';
import { ProkusStack } from '../../infra/prokus-stack.ts';
import { type CfnTemplate, logicalId, permissionsOf, render, SENDER, synthProkus, testApp } from './synth.ts';

const { stack, template, json } = synthProkus();
const poolId = logicalId(stack, stack.signIn.userPool);
const clientId = logicalId(stack, stack.signIn.client);
const apiId = logicalId(stack, stack.pagesApi);

function resourcesOf(type: string) {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}
function only(type: string) {
  const found = resourcesOf(type);
  expect(found, type).toHaveLength(1);
  return found[0]![1] as { Properties: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] };
}

describe('the user pool', () => {
  const pool = only('AWS::Cognito::UserPool');

  it('admins create the accounts: no self sign-up; people sign in with a verified email address', () => {
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
    });
    expect(pool.Properties.Schema).toEqual(expect.arrayContaining([expect.objectContaining({ Name: 'email', Required: true })]));
  });

  it('carries the districts as a custom string attribute, so ID tokens carry custom:districts', () => {
    expect(pool.Properties.Schema).toEqual(
      expect.arrayContaining([expect.objectContaining({ Name: 'districts', AttributeDataType: 'String', Mutable: true })]),
    );
  });

  it('allows a password or a code emailed to the address as the first factor, TOTP as an optional second', () => {
    expect(pool.Properties).toMatchObject({
      UserPoolTier: 'PLUS',
      Policies: {
        SignInPolicy: { AllowedFirstAuthFactors: expect.arrayContaining(['PASSWORD', 'EMAIL_OTP']) },
        PasswordPolicy: { MinimumLength: 12, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true },
      },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      // Threat protection: risky sign-ins and compromised credentials are blocked, not just logged.
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    const factors = (pool.Properties.Policies as { SignInPolicy: { AllowedFirstAuthFactors: string[] } }).SignInPolicy
      .AllowedFirstAuthFactors;
    expect(factors.sort()).toEqual(['EMAIL_OTP', 'PASSWORD']);
  });

  it("sends its codes and invitations through SES, from the stack's sender, once that identity exists", () => {
    const email = pool.Properties.EmailConfiguration as Record<string, unknown>;
    expect(email.EmailSendingAccount).toBe('DEVELOPER');
    expect(render(email.From)).toContain(SENDER);
    expect(render(email.SourceArn)).toBe(`arn:{AWS::Partition}:ses:{AWS::Region}:{AWS::AccountId}:identity/${SENDER}`);
    expect(pool.DependsOn).toContain(logicalId(stack, stack.node.findChild('Sender')));
  });

  it('with -c senderIdentity=existing, uses the verified identity the account has instead of making one', () => {
    const existing = new ProkusStack(testApp(), 'ProkusExisting', {
      senderEmail: SENDER,
      senderIdentity: 'existing',
      signInDomainPrefix: 'prokus-test',
    });
    const t = Template.fromStack(existing);
    t.resourceCountIs('AWS::SES::EmailIdentity', 0);
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'prokus-test' });
    const pools = Object.values((t.toJSON() as CfnTemplate).Resources).filter((r) => r.Type === 'AWS::Cognito::UserPool');
    expect(pools).toHaveLength(1);
    const email = pools[0]?.Properties?.EmailConfiguration as { SourceArn: unknown } | undefined;
    expect(render(email?.SourceArn)).toBe(`arn:{AWS::Partition}:ses:{AWS::Region}:{AWS::AccountId}:identity/${SENDER}`);
    const ses = permissionsOf(t.toJSON() as CfnTemplate, logicalId(existing, existing.functions.OpenRequest.role!)).filter(
      (p) => p.action === 'ses:SendEmail',
    );
    expect(ses.map((p) => p.resource)).toEqual([`arn:{AWS::Partition}:ses:{AWS::Region}:{AWS::AccountId}:identity/${SENDER}`]);
  });

  it('is never deleted with the stack, nor by mistake', () => {
    expect(pool.DeletionPolicy).toBe('Retain');
    expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
  });

  it('has one group per role, named as the role, and no other', () => {
    const groups = resourcesOf('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties as Record<string, unknown>);
    expect(groups.map((g) => g.GroupName).sort()).toEqual([...Role.options].sort());
    for (const g of groups) expect(g.UserPoolId).toEqual({ Ref: poolId });
  });

  it('has a managed login domain (version 2) with Cognito’s own style assigned to the pages’ client', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      UserPoolId: { Ref: poolId },
      ManagedLoginVersion: 2,
      Domain: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
      UserPoolId: { Ref: poolId },
      ClientId: { Ref: clientId },
      UseCognitoProvidedValues: true,
    });
  });
});

describe("the pages' app client", () => {
  const client = only('AWS::Cognito::UserPoolClient').Properties;

  it('is public (no secret) and grants authorization codes only, for openid and email', () => {
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect((client.AllowedOAuthScopes as string[]).sort()).toEqual(['email', 'openid']);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    // USER_AUTH: managed login's choice of password or emailed code; refresh comes with it.
    expect((client.ExplicitAuthFlows as string[]).sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_AUTH']);
  });

  it('sends the person back to the pages only: /auth/callback after sign-in, /signed-out after sign-out', () => {
    expect((client.CallbackURLs as unknown[]).map(render)).toEqual([`{${apiId}.ApiEndpoint}/auth/callback`]);
    expect((client.LogoutURLs as unknown[]).map(render)).toEqual([`{${apiId}.ApiEndpoint}/signed-out`]);
  });

  it('reads the email and the districts, writes nothing, hides whether an account exists, and keeps ID tokens an hour', () => {
    expect((client.ReadAttributes as string[]).sort()).toEqual(['custom:districts', 'email', 'email_verified']);
    expect(client.WriteAttributes).toEqual([]);
    expect(client.PreventUserExistenceErrors).toBe('ENABLED');
    expect(client).toMatchObject({ IdTokenValidity: 60, TokenValidityUnits: { IdToken: 'minutes' } });
  });
});

describe('the session authorizer', () => {
  const authorizer = only('AWS::ApiGatewayV2::Authorizer').Properties;
  const authorizerId = resourcesOf('AWS::ApiGatewayV2::Authorizer')[0]![0];
  const routes = new Map(
    resourcesOf('AWS::ApiGatewayV2::Route').map(([, r]) => {
      const p = r.Properties as { RouteKey: string; AuthorizationType?: string; AuthorizerId?: unknown };
      return [p.RouteKey, p];
    }),
  );

  it('is a Lambda REQUEST authorizer on the Cookie header, simple responses, never cached', () => {
    expect(authorizer).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Cookie'],
      AuthorizerResultTtlInSeconds: 0,
    });
    expect(render(authorizer.AuthorizerUri)).toContain(`{${logicalId(stack, stack.functions.Authorize)}.Arn}`);
  });

  // From the route table: a route added there is checked here without a new test.
  for (const declared of PAGE_ROUTES) {
    const key = `${declared.method} ${declared.path}`;
    it(`${key} ${declared.person ? 'needs a live session' : 'is open, as the table says'}`, () => {
      const route = routes.get(key);
      expect(route, key).toBeDefined();
      if (declared.person) {
        expect(route?.AuthorizationType).toBe('CUSTOM');
        expect(route?.AuthorizerId).toEqual({ Ref: authorizerId });
      } else {
        expect(route?.AuthorizationType ?? 'NONE').toBe('NONE');
        expect(route?.AuthorizerId).toBeUndefined();
      }
    });
  }

  it('guards the deciding POST of a link but not its GET, which tells someone not signed in to sign in', () => {
    expect(routes.get('POST /r/{token}')?.AuthorizationType).toBe('CUSTOM');
    expect(routes.get('GET /r/{token}')?.AuthorizationType ?? 'NONE').toBe('NONE');
  });

  it('may be invoked by this API only', () => {
    const permissions = resourcesOf('AWS::Lambda::Permission')
      .map(([, p]) => p.Properties as { FunctionName: unknown; Principal: string; SourceArn: unknown })
      .filter((p) => render(p.FunctionName) === `{${logicalId(stack, stack.functions.Authorize)}.Arn}`);
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Principal).toBe('apigateway.amazonaws.com');
    expect(render(permissions[0]?.SourceArn)).toContain(`{${apiId}}/authorizers/{${authorizerId}}`);
  });

  it('runs with the same environment as the pages, so it finds the same table and the same cookie name', () => {
    const env = (fn: 'Pages' | 'Authorize') => {
      const props = json.Resources[logicalId(stack, stack.functions[fn])]?.Properties as
        | { Environment: { Variables: unknown } }
        | undefined;
      return props?.Environment.Variables;
    };
    expect(env('Authorize')).toBeDefined();
    expect(env('Authorize')).toEqual(env('Pages'));
    // Reads nothing but the session.
    expect(
      permissionsOf(json, logicalId(stack, stack.functions.Authorize.role!))
        .map((p) => p.action)
        .sort(),
    ).toEqual(
      [
        'dynamodb:GetItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });
});
