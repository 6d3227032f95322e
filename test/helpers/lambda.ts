import type { Context } from 'aws-lambda';
import type { LambdaEnvironment } from '#lib/env';

/** A Lambda context good enough for middy handlers in unit tests. */
export function lambdaContext(functionName = 'test'): Context {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-southeast-3:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler<R> = (event: unknown, context: Context) => Promise<R>;

export function invoke<R>(handler: Handler<R>, event: unknown): Promise<R> {
  return handler(event, lambdaContext());
}

/** The Lambda environment, as the CDK app and the embedded runtime set it (typed: a missing name fails typecheck). */
export const TEST_ENV: LambdaEnvironment = {
  TABLE_NAME: 'prokus-test',
  BUCKET_NAME: 'prokus-test-files',
  SECRET_ID: 'prokus-test/secret',
  MAIL_FROM: 'prokus@kemensos.example',
  PAGES_URL: 'https://pages.example',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  OIDC_ISSUER: 'https://signin.example',
  OIDC_CLIENT_ID: 'prokus-test-pages',
};

export function setTestEnv(): void {
  Object.assign(process.env, TEST_ENV);
}
