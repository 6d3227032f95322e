/** The S3 client, created once per process; its own module so only the Lambdas that read files bundle it. */
import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '../tracer.ts';

// Path-style addressing and checksums only when required work on AWS and on any
// S3-compatible store (streaming uploads and presigned URLs fail otherwise on s3rver).
export const s3 = /* @__PURE__ */ tracer.captureAWSv3Client(
  /* @__PURE__ */ new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' }),
);
