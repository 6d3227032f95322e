/**
 * AWS SDK clients, created once per process (module scope) and configured the
 * standard way: endpoints come from AWS_ENDPOINT_URL_* so the same code talks to AWS
 * or to the embedded runtime without asking which one it is.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

// Path-style addressing and checksums only when required work on AWS and on any
// S3-compatible store (streaming uploads and presigned URLs fail otherwise on s3rver).
export const s3 = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });

export const sfn = new SFNClient({});
export const ses = new SESv2Client({});
export const secretsManager = new SecretsManagerClient({});

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
