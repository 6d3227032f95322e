/** The Step Functions client, created once per process; its own module so only the Lambdas that settle tasks bundle it. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from '../tracer.ts';

export const sfn = /* @__PURE__ */ tracer.captureAWSv3Client(/* @__PURE__ */ new SFNClient({}));
