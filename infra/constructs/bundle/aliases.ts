/**
 * What the Lambda bundles carry instead of a few packages (esbuild `--alias`, set by
 * ProkusFunction): each stand-in does at run time, on Lambda's Node.js, what the code it
 * replaces does on the paths our functions take, and leaves out what they never run.
 * Tests and the embedded runtime run the source with the real packages;
 * test/infra/bundle-aliases.test.ts runs bundled code with these aliases.
 */
import { fileURLToPath } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/**
 * The SDK's credential providers that read a shared config or credentials file, an SSO
 * token cache or a web identity token file, or run a credential_process, with the STS,
 * SSO, OIDC and sign-in clients they load (~115 KB of every bundle). Lambda gives the
 * role's credentials in the environment, read by the chain's first link.
 */
export const CREDENTIAL_PROVIDERS_NOT_IN_LAMBDA = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
] as const;

export const BUNDLE_ALIASES: Record<string, string> = {
  ...Object.fromEntries(CREDENTIAL_PROVIDERS_NOT_IN_LAMBDA.map((p) => [p, here('./credential-links.ts')])),
};
