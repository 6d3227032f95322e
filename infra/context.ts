/**
 * The settings a deployment chooses, from CDK context: cdk.json holds safe examples,
 * `-c senderEmail=...` overrides them (approvers are per district and level, in the program
 * configuration). Parsed here so a typo fails
 * the synth with a message instead of a deployment.
 */
import type { App } from 'aws-cdk-lib';
import { z } from 'zod';

export const ProkusContext = z.object({
  senderEmail: z.email(),
  // State machine names are `<stackName>-Journey`: letters, digits and dashes only.
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'letters, digits and dashes, at most 41')
    .default('Prokus'),
  // Powertools Logger's levels.
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'critical', 'silent']).default('info'),
  /** An existing SNS topic for the alarms (`-c alarmTopicArn=arn:aws:sns:…`); without it the stack creates one. */
  alarmTopicArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'the ARN of a standard SNS topic')
    .optional(),
  /**
   * `create` (default): the stack makes the sender's SES identity. `existing`: the address is
   * already an identity of this account and region, verified: Cognito refuses to create the
   * user pool with an unverified sender, so a first deployment verifies it beforehand.
   */
  senderIdentity: z.enum(['create', 'existing']).default('create'),
  /** The managed login's domain prefix: lower-case letters, digits and dashes, unique in the region. */
  signInDomainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and dashes, at most 63')
    .refine((p) => !/aws|amazon|cognito/.test(p), 'Cognito refuses a prefix containing aws, amazon or cognito')
    .optional(),
});
export type ProkusContext = z.infer<typeof ProkusContext>;

export function readContext(app: App): ProkusContext {
  const read = (key: string): unknown => app.node.tryGetContext(key);
  const parsed = ProkusContext.safeParse({
    senderEmail: read('senderEmail'),
    stackName: read('stackName'),
    logLevel: read('logLevel'),
    alarmTopicArn: read('alarmTopicArn'),
    senderIdentity: read('senderIdentity'),
    signInDomainPrefix: read('signInDomainPrefix'),
  });
  if (!parsed.success) throw new Error(`CDK context is not valid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
