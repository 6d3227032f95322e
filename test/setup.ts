import 'aws-sdk-client-mock-vitest/extend';

process.env.AWS_REGION ??= 'ap-southeast-3';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.LOG_LEVEL ??= 'silent';
