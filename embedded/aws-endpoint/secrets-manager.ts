/**
 * Secrets Manager, AWS JSON 1.1 (`X-Amz-Target: secretsmanager.GetSecretValue`): the
 * program secret the handlers load, served from memory. Its own file, one per service.
 */
import { z } from 'zod';
import { ApiError, validate } from './api-error.ts';

const GetSecretValue = z.object({
  SecretId: z.string().min(1).max(2048),
  VersionId: z.string().optional(),
  VersionStage: z.string().optional(),
});

/** The secrets to serve (secret id → SecretString), and the engine's region and account for the ARN. */
export interface SecretsSource {
  secrets: Record<string, string>;
  engine: { region: string; accountId: string };
}

export function getSecretValue(opts: SecretsSource, body: unknown): unknown {
  const { SecretId } = validate(GetSecretValue, body);
  const name = /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(SecretId)?.[1] ?? SecretId;
  const value = opts.secrets[name];
  if (value === undefined) {
    throw new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }
  const { region, accountId } = opts.engine;
  return {
    ARN: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-local0`,
    Name: name,
    VersionId: '00000000-0000-4000-8000-000000000001',
    SecretString: value,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 0,
  };
}
