/** The Secrets Manager client, created once per process: every Lambda loads the program secret at cold start. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const secretsManager = /* @__PURE__ */ new SecretsManagerClient({});
