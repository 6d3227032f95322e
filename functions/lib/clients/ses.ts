/** The SES v2 client, created once per process; its own module so only the Lambdas that send mail bundle it. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { tracer } from '../tracer.ts';

export const ses = /* @__PURE__ */ tracer.captureAWSv3Client(/* @__PURE__ */ new SESv2Client({}));
