import 'aws-sdk-client-mock-vitest/extend';

process.env.AWS_REGION ??= 'ap-southeast-3';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.LOG_LEVEL ??= 'silent';
// Powertools Metrics prints EMF blobs to stdout; the tests that read them turn it back on
// (test/helpers/log-file.ts). Tracing is off outside Lambda without being told.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
