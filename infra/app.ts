/**
 * The CDK app. No lookups: `cdk synth` works offline and without credentials; the
 * account and region come from the CLI profile at deploy time. cdk-nag's AwsSolutions
 * checks run on every synth; an unsuppressed error fails it (infra/nag-suppressions.ts
 * holds the accepted findings, each with its reason).
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readContext } from './context.ts';
import { ProkusStack } from './prokus-stack.ts';

const app = new App();
Aspects.of(app).add(new AwsSolutionsChecks());
const context = readContext(app);
new ProkusStack(app, context.stackName, {
  description: 'Prokus Workflow: proposal intake and beneficiary journeys',
  senderEmail: context.senderEmail,
  logLevel: context.logLevel,
  ...(context.alarmTopicArn ? { alarmTopicArn: context.alarmTopicArn } : {}),
  senderIdentity: context.senderIdentity,
  ...(context.signInDomainPrefix ? { signInDomainPrefix: context.signInDomainPrefix } : {}),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
