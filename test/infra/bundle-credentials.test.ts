/**
 * The Lambda bundles replace the SDK credential providers that read files a Lambda does
 * not have (infra/constructs/lambda-credential-links.ts). Bundled with the same aliases,
 * an SDK client must still take the role's credentials from the environment, and with
 * none there end as the SDK's own chain ends, trying the next links instead of failing
 * on the stand-ins.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_IN_LAMBDA_BUNDLE } from '../../infra/constructs/lambda-credential-links.ts';
import { BUNDLE_ALIASES } from '../../infra/constructs/prokus-function.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

const ENTRY = `
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
const client = new SecretsManagerClient({});
try {
  const c = await client.config.credentials();
  console.log(JSON.stringify({ accessKeyId: c.accessKeyId }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}
`;

let dir: string;
let bundle: string;
let inputs: string[];

async function resolveIn(env: Record<string, string>): Promise<{ accessKeyId?: string; error?: string; message?: string }> {
  // Nothing from this machine's environment: no credentials, no profile, no config file.
  const base = { PATH: process.env.PATH ?? '', HOME: dir, AWS_REGION: 'ap-southeast-3', AWS_EC2_METADATA_DISABLED: 'true' };
  const { stdout } = await run(process.execPath, [bundle], { env: { ...base, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-bundle-'));
  bundle = join(dir, 'index.mjs');
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: repoRoot, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    alias: BUNDLE_ALIASES,
    outfile: bundle,
    metafile: true,
    logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  inputs = Object.keys(result.metafile.inputs);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('credentials in a Lambda bundle', () => {
  it('bundles the stand-ins instead of the providers that read files (and the STS and SSO clients they load)', () => {
    for (const pkg of [...NOT_IN_LAMBDA_BUNDLE, '@aws-sdk/nested-clients']) {
      expect(inputs.filter((f) => f.includes(`node_modules/${pkg}/`))).toEqual([]);
    }
    expect(inputs.some((f) => f.endsWith('lambda-credential-links.ts'))).toBe(true);
  });

  it('takes the credentials Lambda puts in the environment', async () => {
    const out = await resolveIn({
      AWS_ACCESS_KEY_ID: 'AKIAFROMENV',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    expect(out).toEqual({ accessKeyId: 'AKIAFROMENV' });
  });

  it('without them, passes over the stand-ins to the end of the chain, as the SDK does where no file exists', async () => {
    const settings: Record<string, string>[] = [
      {},
      { AWS_PROFILE: 'somebody' },
      { AWS_WEB_IDENTITY_TOKEN_FILE: '/nowhere', AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/x' },
    ];
    for (const env of settings) {
      const out = await resolveIn(env);
      expect(out.error).toBe('CredentialsProviderError');
      expect(out.message).toBe('Could not load credentials from any providers');
    }
  });
});
