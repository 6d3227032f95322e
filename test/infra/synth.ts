/**
 * Synthesizes the Prokus stack the way `cdk synth` does (same feature flags from
 * cdk.json, no account or region) but without bundling, so CDK tests take seconds
 * and do not depend on esbuild output. Plus small readers for what tests ask of a
 * CloudFormation template: what a value refers to and what a role may do.
 *
 * Dependency cycles need no test of their own: with `@aws-cdk/core:validateAgainstDefaultRules`
 * (cdk.json) the synth itself fails on them, here as in `cdk synth`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { ProkusStack } from '../../infra/prokus-stack.ts';

const CdkJson = z.object({ context: z.record(z.string(), z.unknown()) });

export function cdkJsonContext(): Record<string, unknown> {
  return CdkJson.parse(JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))).context;
}

/** An app with the project's feature flags and bundling skipped. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] } });
}

export const SENDER = 'prokus-noreply@example.org';

export function synthProkus() {
  const app = testApp();
  const stack = new ProkusStack(app, 'ProkusTest', { senderEmail: SENDER });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as CfnTemplate };
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

export function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/**
 * A CloudFormation value as readable text: `{Ref X}` → `{X}`, GetAtt → `{X.Attr}`,
 * Fn::Join concatenated. ARNs built from pseudo parameters then read like
 * `arn:{AWS::Partition}:states:{AWS::Region}:{AWS::AccountId}:stateMachine:Name`.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `{${render(v.Ref)}}`;
    if ('Fn::GetAtt' in v) return `{${(v['Fn::GetAtt'] as unknown[]).map(render).join('.')}}`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if ('Fn::Sub' in v) return render(v['Fn::Sub']);
  }
  return JSON.stringify(value);
}

/**
 * A CloudFormation value as CloudFormation would resolve it, given the values of the `Ref`s
 * it uses (pseudo parameters included): `Fn::Join`, `Fn::Select` and `Fn::Split`, so an ARN
 * cut out of another ARN can be compared with what a handler builds. Anything else throws.
 */
export function evaluate(value: unknown, refs: Record<string, string>): string {
  const list = (v: unknown): string[] => {
    if (v && typeof v === 'object' && 'Fn::Split' in v) {
      const [separator, source] = (v as { 'Fn::Split': [string, unknown] })['Fn::Split'];
      return evaluate(source, refs).split(separator);
    }
    if (Array.isArray(v)) return v.map((x) => evaluate(x, refs));
    throw new Error(`evaluate: not a list: ${JSON.stringify(v)}`);
  };
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) {
      const resolved = refs[String(v.Ref)];
      if (resolved === undefined) throw new Error(`evaluate: no value for Ref ${String(v.Ref)}`);
      return resolved;
    }
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => evaluate(p, refs)).join(separator);
    }
    if ('Fn::Select' in v) {
      const [index, from] = v['Fn::Select'] as [number, unknown];
      const picked = list(from)[index];
      if (picked === undefined) throw new Error(`evaluate: no element ${index} in ${JSON.stringify(from)}`);
      return picked;
    }
  }
  throw new Error(`evaluate: cannot evaluate ${JSON.stringify(value)}`);
}

const asList = (x: unknown): unknown[] => (Array.isArray(x) ? x : [x]);

export interface Permission {
  action: string;
  resource: string;
}

/** Every (action, resource) pair the IAM policies attached to a role allow. */
export function permissionsOf(template: CfnTemplate, roleLogicalId: string): Permission[] {
  const out: Permission[] = [];
  for (const policy of Object.values(template.Resources)) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    const props = policy.Properties as { Roles?: unknown[]; PolicyDocument: { Statement: unknown[] } };
    if (!(props.Roles ?? []).some((r) => render(r) === `{${roleLogicalId}}`)) continue;
    for (const raw of props.PolicyDocument.Statement) {
      const s = raw as { Effect: string; Action: unknown; Resource: unknown };
      if (s.Effect !== 'Allow') continue;
      for (const action of asList(s.Action)) {
        for (const resource of asList(s.Resource)) out.push({ action: render(action), resource: render(resource) });
      }
    }
  }
  return out;
}

export interface Statement {
  /** The policy's logical id and the roles it is attached to (`{RoleLogicalId}`). */
  policy: string;
  roles: string[];
  actions: string[];
  resources: string[];
  /** The Condition block, values rendered (`{AWS::Region}`). */
  condition: Record<string, Record<string, unknown>>;
}

/** Every IAM policy statement in the template, with the policy's logical id. */
export function allStatements(template: CfnTemplate): Statement[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .flatMap(([policy, r]) => {
      const props = r.Properties as {
        Roles?: unknown[];
        PolicyDocument: {
          Statement: { Action: unknown; Resource: unknown; Condition?: Record<string, Record<string, unknown>> }[];
        };
      };
      return props.PolicyDocument.Statement.map((s) => ({
        policy,
        roles: (props.Roles ?? []).map(render),
        actions: asList(s.Action).map(render),
        resources: asList(s.Resource).map(render),
        condition: Object.fromEntries(
          Object.entries(s.Condition ?? {}).map(([op, keys]) => [
            op,
            Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, Array.isArray(v) ? v.map(render) : render(v)])),
          ]),
        ),
      }));
    });
}

/** The state machine definition CDK staged as an asset (DefinitionBody.fromFile), as text. */
export function stagedDefinition(app: App, definitionS3Key: string): string {
  return readFileSync(join(app.synth().directory, `asset.${definitionS3Key}`), 'utf8');
}
