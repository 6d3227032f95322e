import { describe, expect, it } from 'vitest';
import { isRecipient, maskEmail, mayProposeFor, personFromClaims, SignInClaimsError } from '#domain/person';

const claims = {
  sub: '8f1c2d3e-0000-4000-8000-000000000001',
  email: 'Petugas.3210@Dinsos.example',
  email_verified: true,
  'cognito:groups': ['officer', 'ap-southeast-3_Pool_Google'],
  'custom:districts': '3210, 3217',
  aud: 'client',
};

describe('a person from a verified ID token', () => {
  it('takes roles from the groups (ignoring groups that are not roles) and districts from custom:districts', () => {
    expect(personFromClaims(claims)).toEqual({
      sub: claims.sub,
      email: 'petugas.3210@dinsos.example',
      roles: ['officer'],
      districts: ['3210', '3217'],
    });
  });

  it('names nobody when the provider has not verified the address, or a district is not a code', () => {
    expect(() => personFromClaims({ ...claims, email_verified: false })).toThrow(SignInClaimsError);
    expect(() => personFromClaims({ ...claims, email_verified: 'false' })).toThrow(/not verified/);
    expect(() => personFromClaims({ ...claims, 'custom:districts': '3210,Majalengka' })).toThrow(/Majalengka/);
    expect(() => personFromClaims({ ...claims, email: undefined })).toThrow(SignInClaimsError);
  });

  it('accepts Cognito’s string "true" and a token without groups (a person with no role yet)', () => {
    const p = personFromClaims({ sub: 's', email: 'a@b.example', email_verified: 'true' });
    expect(p).toMatchObject({ roles: [], districts: [] });
  });

  it('lets an officer propose only for the districts on their account', () => {
    const p = personFromClaims(claims);
    expect(mayProposeFor(p, '3210')).toBe(true);
    expect(mayProposeFor(p, '3171')).toBe(false);
    expect(mayProposeFor({ ...p, roles: ['approver'] }, '3210')).toBe(false);
  });

  it('matches a request’s recipient without regard to case, and masks an address', () => {
    const p = personFromClaims(claims);
    expect(isRecipient(p, ' PETUGAS.3210@dinsos.example')).toBe(true);
    expect(isRecipient(p, 'petugas.3217@dinsos.example')).toBe(false);
    expect(maskEmail('approver@dinsos.example')).toBe('a•••r@dinsos.example');
    expect(maskEmail('ab@x.example')).toBe('a@x.example');
  });
});
