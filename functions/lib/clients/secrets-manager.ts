/** The Secrets Manager client, created once per process: every Lambda loads the program secret at cold start. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tracer } from '../tracer.ts';

export const secretsManager = /* @__PURE__ */ tracer.captureAWSv3Client(/* @__PURE__ */ new SecretsManagerClient({}));
