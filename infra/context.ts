/**
 * The settings a deployment chooses, from CDK context: cdk.json holds safe examples,
 * `-c senderEmail=... -c approverEmail=...` overrides them. Parsed here so a typo fails
 * the synth with a message instead of a deployment.
 */
import type { App } from 'aws-cdk-lib';
import { z } from 'zod';

export const ProkusContext = z.object({
  senderEmail: z.email(),
  approverEmail: z.email(),
  // State machine names are `<stackName>-Journey`: letters, digits and dashes only.
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'letters, digits and dashes, at most 41')
    .default('Prokus'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type ProkusContext = z.infer<typeof ProkusContext>;

export function readContext(app: App): ProkusContext {
  const read = (key: string): unknown => app.node.tryGetContext(key);
  const parsed = ProkusContext.safeParse({
    senderEmail: read('senderEmail'),
    approverEmail: read('approverEmail'),
    stackName: read('stackName'),
    logLevel: read('logLevel'),
  });
  if (!parsed.success) throw new Error(`CDK context is not valid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
