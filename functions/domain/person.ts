/**
 * The people who act in the program, as a verified sign-in names them. A `Person` is
 * only ever built from the claims of an ID token the pages verified (Cognito on AWS,
 * the embedded OpenID Connect provider on one machine): never from a form field, a
 * URL or the possession of a link.
 *
 * Claims are Cognito's shape on both runtimes: roles are the user's groups
 * (`cognito:groups`), the districts an officer or approver serves are the custom
 * attribute `custom:districts` ("3210,3217").
 */
import * as z from './zod.ts';

export const Role = z.enum(['officer', 'approver', 'mentor', 'lender', 'operator', 'admin']);
export type Role = z.infer<typeof Role>;

export const DistrictCode = z.string().check(z.regex(/^\d{4}$/));

export const Person = z.object({
  /** The identity provider's subject: stable for the account even if its email changes. */
  sub: z.string().check(z.minLength(1), z.maxLength(255)),
  email: z.email(),
  roles: z.array(Role),
  districts: z.array(DistrictCode),
});
export type Person = z.infer<typeof Person>;

/** The claims of a verified ID token this program reads; everything else in the token is ignored. */
const IdTokenClaims = z.object({
  sub: z.string().check(z.minLength(1), z.maxLength(255)),
  email: z.email(),
  // Cognito sends a boolean; some providers send the string.
  email_verified: z.union([z.boolean(), z.enum(['true', 'false'])]),
  'cognito:groups': z.optional(z.array(z.string())),
  'custom:districts': z.optional(z.string()),
});

export class SignInClaimsError extends Error {
  override readonly name = 'SignInClaimsError';
}

/**
 * The person a verified ID token names. An address the provider has not verified names
 * nobody: a request is for an address, so an unverified one could claim someone's requests.
 * Groups that are not roles (Cognito adds its own for federated users) are ignored;
 * district codes that are not four digits are refused rather than dropped.
 */
export function personFromClaims(claims: unknown): Person {
  const parsed = z.safeParse(IdTokenClaims, claims);
  if (!parsed.success) throw new SignInClaimsError(`ID token claims: ${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  if (c.email_verified !== true && c.email_verified !== 'true') throw new SignInClaimsError('ID token: email not verified');
  const roles = (c['cognito:groups'] ?? []).filter((g): g is Role => z.safeParse(Role, g).success);
  const districts = (c['custom:districts'] ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const bad = districts.find((d) => !z.safeParse(DistrictCode, d).success);
  if (bad !== undefined) throw new SignInClaimsError(`ID token: custom:districts holds "${bad}", not a district code`);
  return { sub: c.sub, email: c.email.toLowerCase(), roles: [...new Set(roles)], districts: [...new Set(districts)] };
}

export function hasRole(person: Person, role: Role): boolean {
  return person.roles.includes(role);
}

/** An officer proposes for the districts on their account only. */
export function mayProposeFor(person: Person, district: string): boolean {
  return hasRole(person, 'officer') && person.districts.includes(district);
}

/** A request is for one address; only the person signed in with that address may decide it. */
export function isRecipient(person: Person, recipient: string): boolean {
  return person.email === recipient.trim().toLowerCase();
}

/** "a•••i@dinsos.example": enough for the owner to recognise the address, not enough to learn it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '•••';
  const local = email.slice(0, at);
  const shown = local.length <= 2 ? local.slice(0, 1) : `${local.slice(0, 1)}•••${local.slice(-1)}`;
  return `${shown}@${email.slice(at + 1)}`;
}

/**
 * Who made a decision, recorded with it: the signed-in person's subject and address from
 * the verified token, and the id of the page request that carried it (API Gateway's
 * request id), which finds the log lines of that request.
 */
export const DecidedBy = z.object({
  sub: z.string(),
  email: z.string(),
  pageRequestId: z.string(),
});
export type DecidedBy = z.infer<typeof DecidedBy>;

export function decidedBy(person: Person, pageRequestId: string): DecidedBy {
  return { sub: person.sub, email: person.email, pageRequestId };
}
