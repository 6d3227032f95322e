/**
 * The local account, the names of the runtime's resources, and the environment the handlers
 * read them from (AWS_ENDPOINT_URL_*, TABLE_NAME, ...). Its own file: the CLI sets it without a runtime.
 */
import { resolve } from 'node:path';
import type { LambdaEnvironment } from '#lib/env';
import type { LocalCredentials } from '../local/local-auth.ts';
import { LOCAL_REGION } from '../local/ports.ts';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_NAME = 'prokus-local';
export const SECRET_ID = 'prokus-local/secret';
export const JOURNEY_MACHINE = 'prokus-journey';
export const INTAKE_MACHINE = 'prokus-intake';
/** The pages' client id at the embedded OpenID Connect provider. */
export const LOCAL_PAGES_CLIENT = 'prokus-pages';

export interface Endpoints {
  dynamodb: string;
  s3: string;
  sfn: string;
  pages: string;
  /** The OpenID Connect provider standing in for Cognito (embedded/local/oidc.ts). */
  oidc: string;
}

/**
 * The handlers' SDK clients sign with `credentials` (the runtime's own key pair, which alone
 * may read the program secret; embedded/runtime/credentials.ts).
 */
export function setEnvironment(opts: {
  endpoints: Endpoints;
  credentials: LocalCredentials;
  log: string;
  programsDir?: string;
}): void {
  const env = process.env;
  env.AWS_REGION = LOCAL_REGION;
  env.AWS_ACCESS_KEY_ID = opts.credentials.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = opts.credentials.secretAccessKey;
  // A session token or profile from the operator's shell must not leak into local calls.
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  delete env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  env.AWS_ENDPOINT_URL_DYNAMODB = opts.endpoints.dynamodb;
  env.AWS_ENDPOINT_URL_S3 = opts.endpoints.s3;
  env.AWS_ENDPOINT_URL_SFN = opts.endpoints.sfn;
  env.AWS_ENDPOINT_URL_SESV2 = opts.endpoints.sfn;
  env.AWS_ENDPOINT_URL_SECRETS_MANAGER = opts.endpoints.sfn;
  // The same names the CDK app sets on every Lambda (functions/lib/env.ts).
  const lambda: LambdaEnvironment = {
    TABLE_NAME: LOCAL_NAME,
    BUCKET_NAME: LOCAL_NAME,
    SECRET_ID,
    MAIL_FROM: 'prokus@kemensos.example',
    PAGES_URL: opts.endpoints.pages,
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
    OIDC_ISSUER: opts.endpoints.oidc,
    OIDC_CLIENT_ID: LOCAL_PAGES_CLIENT,
  };
  Object.assign(env, lambda);
  env.PROKUS_LOG_FILE = opts.log;
  // No X-Ray daemon here (Powertools Tracer is off outside Lambda anyway).
  env.POWERTOOLS_TRACE_ENABLED = 'false';
  if (opts.programsDir) env.PROKUS_PROGRAMS_DIR = resolve(opts.programsDir);
}
