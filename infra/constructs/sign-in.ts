/**
 * Who may sign in to the pages on AWS: a Cognito user pool, its managed login, and the
 * pages' app client. Accounts are made by an administrator (no self sign-up), named by
 * their email address; a person's roles are the pool's groups (`cognito:groups`) and the
 * districts they serve the custom attribute `custom:districts` ("3210,3217"), the two
 * claims functions/domain/person.ts reads from the ID token.
 *
 * Approvers, mentors and lenders arrive from an email link once in a while: they sign in
 * with a code emailed to them (EMAIL_OTP), no password to remember. Officers and
 * operators may use a password, with an authenticator app (TOTP) as a second factor.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  ClientAttributes,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  UserPoolEmail,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { SIGNED_OUT_PATH } from '#access/pages';
import { CALLBACK_PATH } from '#access/signin';
import { Role } from '#domain/person';

/** The custom attribute the districts are kept in; tokens carry it as `custom:districts`. */
export const DISTRICTS_ATTRIBUTE = 'districts';

/** The groups are the roles, one for one: a group of another name gives no role. */
export const ROLE_GROUPS: readonly Role[] = Role.options;

export interface SignInProps {
  /** The From address of the codes and invitations: the stack's SES sender, verified in this region. */
  readonly senderEmail: string;
  /** The pages' base URL (the HTTP API endpoint, no trailing slash): Cognito sends the person back to its CALLBACK_PATH and SIGNED_OUT_PATH. */
  readonly pagesUrl: string;
  /** The managed login's domain prefix, `<prefix>.auth.<region>.amazoncognito.com`: unique in the region. */
  readonly domainPrefix: string;
}

export class SignIn extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: SignInProps) {
    super(scope, id);

    this.userPool = new UserPool(this, 'People', {
      // Admins create the accounts; an invitation with a temporary password goes to the address.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // "3210,3217": 4-digit district codes, comma-separated; the pages refuse anything else.
        [DISTRICTS_ATTRIBUTE]: new StringAttribute({ minLen: 0, maxLen: 2048, mutable: true }),
      },
      // PLUS: passwordless sign-in is ESSENTIALS and up; threat protection (compromised
      // credentials, risky sign-ins blocked) is PLUS only.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      signInPolicy: { allowedFirstAuthFactors: { password: true, emailOtp: true } },
      // Optional: a required second factor would rule out the emailed code as a sign-in.
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // EMAIL_OTP needs the pool to send through SES; the codes come from the program's own address.
      email: UserPoolEmail.withSES({
        fromEmail: props.senderEmail,
        fromName: 'Prokus Kemensos',
        sesRegion: Stack.of(this).region,
      }),
      userInvitation: {
        emailSubject: 'Akun Prokus Anda / Your Prokus account',
        // An account made without a password (approvers, mentors, lenders) has no {####} to show.
        emailBody:
          'Akun Prokus Anda sudah dibuat untuk {username}. Masuklah dengan kode yang dikirim ke alamat ini; ' +
          'petugas dengan kata sandi memakai kata sandi sementara ini dan menggantinya: {####}<br><br>' +
          'Your Prokus account has been made for {username}. Sign in with the code sent to this address; ' +
          'officers with a password use this temporary password and change it: {####}',
      },
      // The accounts say who may decide on grants: never deleted with the stack.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const role of ROLE_GROUPS) {
      this.userPool.addGroup(`Group-${role}`, { groupName: role, description: `Prokus role: ${role}` });
    }

    this.domain = this.userPool.addDomain('ManagedLogin', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    this.client = this.userPool.addClient('Pages', {
      userPoolClientName: 'prokus-pages',
      // A public client: the pages' relying party proves the code with PKCE, no secret to keep.
      generateSecret: false,
      // USER_AUTH: managed login's choice of first factor (password or emailed code).
      authFlows: { user: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [`${props.pagesUrl}${CALLBACK_PATH}`],
        logoutUrls: [`${props.pagesUrl}${SIGNED_OUT_PATH}`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes(DISTRICTS_ATTRIBUTE),
      // Only an administrator changes the districts.
      writeAttributes: new ClientAttributes(),
      preventUserExistenceErrors: true,
      // The ID token is read once, at the callback, to make the session; it need not last.
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(8),
      authSessionValidity: Duration.minutes(15),
      enableTokenRevocation: true,
    });

    // Managed login (version 2) shows nothing until a style is assigned to the client: Cognito's own.
    new CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
  }

  /** The OpenID Connect issuer of the pool: its discovery document is under `/.well-known/openid-configuration`. */
  get issuer(): string {
    return `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
  }
}
