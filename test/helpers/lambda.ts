import type { Context } from 'aws-lambda';

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

export function setTestEnv(): void {
  process.env.TABLE_NAME = 'prokus-test';
  process.env.BUCKET_NAME = 'prokus-test-bucket';
  process.env.SECRET_ID = 'prokus-test/secret';
  process.env.MAIL_FROM = 'prokus@kemensos.example';
  process.env.APPROVER_EMAIL = 'approver@dinsos.example';
  process.env.PAGES_URL = 'https://pages.example';
}
