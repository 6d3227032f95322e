/**
 * X-Ray tracing (Powertools Tracer). Every AWS client module wraps its client with
 * `tracer.captureAWSv3Client`, so each DynamoDB, S3, Step Functions, SES and Secrets
 * Manager call is a subsegment; taskHandler and the pages handler add the handler's own.
 *
 * Tracing is on only inside Lambda (Powertools checks AWS_EXECUTION_ENV): in tests and in
 * the embedded runtime, where there is no X-Ray daemon, every call here does nothing and
 * prints nothing. The embedded runtime also sets POWERTOOLS_TRACE_ENABLED=false.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './metric-names.ts';

export const tracer = new Tracer({ serviceName: SERVICE_NAME });
