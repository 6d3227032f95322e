/**
 * The environment every Lambda reads, named once: the CDK app (infra) and the embedded
 * runtime both build a `LambdaEnvironment`, so a name set in one place and read in
 * another cannot drift apart.
 */

export const LAMBDA_ENV = [
  'TABLE_NAME',
  /** The files bucket: the upload page presigns the officers' uploads into it and reads their reports. */
  'BUCKET_NAME',
  'SECRET_ID',
  'MAIL_FROM',
  'PAGES_URL',
  'LOG_LEVEL',
  /** The OpenID Connect provider the pages sign people in with (Cognito's user pool issuer on AWS), and their client id there. */
  'OIDC_ISSUER',
  'OIDC_CLIENT_ID',
] as const;
export type LambdaEnvName = (typeof LAMBDA_ENV)[number];
export type LambdaEnvironment = Record<LambdaEnvName, string>;

/**
 * Set on the operators' console only: the state machines whose executions it shows and
 * whose failed journeys it resumes (on every function they would be a dependency cycle:
 * the state machines name the task functions).
 */
export const CONSOLE_ENV = ['JOURNEY_STATE_MACHINE_ARN', 'INTAKE_STATE_MACHINE_ARN'] as const;
export type ConsoleEnvName = (typeof CONSOLE_ENV)[number];

/**
 * Set only by the embedded runtime and tests: where the log goes instead of stdout, and
 * a folder of extra program configurations.
 */
export const LOCAL_ENV = ['PROKUS_LOG_FILE', 'PROKUS_PROGRAMS_DIR'] as const;
export type LocalEnvName = (typeof LOCAL_ENV)[number];

export function requiredEnv(name: LambdaEnvName | ConsoleEnvName): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function optionalEnv(name: LambdaEnvName | LocalEnvName): string | undefined {
  return process.env[name] || undefined;
}
