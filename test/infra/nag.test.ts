/**
 * cdk-nag's AwsSolutions pack over the whole stack, as `cdk synth` runs it (infra/app.ts):
 * any finding, error or warning, that infra/nag-suppressions.ts does not accept with a
 * reason fails here, listed by rule and construct path.
 */
import { Aspects } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PAGE_ROUTES } from '../../functions/web/routes.ts';
import { OPEN_ROUTES } from '../../infra/nag-suppressions.ts';
import { ProkusStack } from '../../infra/prokus-stack.ts';
import { SENDER, testApp } from './synth.ts';

function nagFindings() {
  // With the project's `annotationsInValidationReport` flag an error annotation fails the
  // synth itself (as `cdk synth` does); here the findings are read and listed instead.
  const app = testApp({ '@aws-cdk/core:annotationsInValidationReport': false });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const stack = new ProkusStack(app, 'ProkusTest', { senderEmail: SENDER });
  const annotations = Annotations.fromStack(stack);
  const nag = Match.stringLikeRegexp('^(AwsSolutions-|CdkNagValidationFailure)');
  return [...annotations.findError('*', nag), ...annotations.findWarning('*', nag)].map((m) => {
    // "AwsSolutions-IAM5[Resource::<DataFiles….Arn>/proposals/*]: The IAM entity …": rule id with its finding.
    const text = String(m.entry.data);
    return { level: m.level, rule: /^[\w-]+(\[[^\]]*\])?/.exec(text)?.[0] ?? text, path: m.id };
  });
}

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing that is not suppressed with a reason', () => {
    const findings = nagFindings();
    const listing = findings
      .map((f) => `${f.level.padEnd(7)} ${f.rule}  ${f.path}`)
      .sort()
      .join('\n');
    expect(findings.length, `unsuppressed cdk-nag findings:\n${listing}`).toBe(0);
  });

  it('gives a reason for each open page route (no session authorizer), and for no other', () => {
    const open = PAGE_ROUTES.filter((r) => !r.person).map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(OPEN_ROUTES).sort()).toEqual(open.sort());
  });
});
