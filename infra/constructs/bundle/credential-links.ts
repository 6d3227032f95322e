/**
 * Bundled instead of four of the AWS SDK's credential providers (aliases.ts): the ones that read a shared config or credentials file, an SSO
 * token cache, a web identity token file or run a `credential_process`. None of those
 * exists in a Lambda function, where the runtime puts the role's credentials in the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and the default
 * chain's first link, fromEnv, returns them; these links come after it. Bundled, they and
 * the STS, SSO and sign-in clients they load are ~115 KB of every function.
 *
 * Each stand-in fails the way the real one does where its file is missing: with an error
 * that tells the chain to try its next link (container or instance metadata, then "Could
 * not load credentials from any providers"). Tests and the embedded runtime run the
 * source, with the SDK's full chain.
 */

class NotInLambdaBundle extends Error {
  override readonly name = 'CredentialsProviderError';
  /** Read by the SDK's provider chain: move on to the next provider. */
  readonly tryNextLink = true;
}

const notBundled = (source: string) => () => async (): Promise<never> => {
  throw new NotInLambdaBundle(`credentials from ${source} are not part of this Lambda bundle`);
};

export const fromIni = notBundled('a shared config or credentials file (AWS_PROFILE)');
export const fromSSO = notBundled('AWS IAM Identity Center (SSO)');
export const fromProcess = notBundled('a credential_process');
export const fromTokenFile = notBundled('a web identity token file');
