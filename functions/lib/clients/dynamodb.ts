/**
 * The DynamoDB document client, created once per process (module scope). Each AWS
 * client has its own module so a Lambda bundles only the clients it calls. Endpoints
 * come from AWS_ENDPOINT_URL_*, so the same code talks to AWS or to the embedded runtime.
 * Each client is wrapped by the tracer (lib/tracer.ts): its calls show in X-Ray.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '../tracer.ts';

export const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});
