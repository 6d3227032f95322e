/**
 * The DynamoDB document client, created once per process (module scope). Each AWS
 * client has its own module so a Lambda bundles only the clients it calls, and each is
 * created under a `@__PURE__` annotation, so a Lambda that reaches a client's module
 * without calling the client (OpenRequest imports #requests/requests, whose settleTask
 * uses Step Functions) lets the bundler drop the client and its whole package. Endpoints
 * come from AWS_ENDPOINT_URL_*, so the same code talks to AWS or to the embedded runtime.
 * Each client is wrapped by the tracer (lib/tracer.ts): its calls show in X-Ray.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '../tracer.ts';

export const dynamo = /* @__PURE__ */ DynamoDBDocumentClient.from(
  /* @__PURE__ */ tracer.captureAWSv3Client(/* @__PURE__ */ new DynamoDBClient({})),
  {
    marshallOptions: { removeUndefinedValues: true },
  },
);
