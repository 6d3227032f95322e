/**
 * Approvers per district and level, escalation and the national ceiling in the program
 * configuration: what an operator who edits programs/<year>.json is told when it is wrong.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { approvalLevel, approversOf, ProgramConfig } from '#domain/program';
import * as z from '#domain/zod';

const program2020 = JSON.parse(readFileSync(new URL('../../programs/2020.json', import.meta.url), 'utf8'));
const program2024 = JSON.parse(readFileSync(new URL('../../programs/2024.json', import.meta.url), 'utf8'));

function problems(raw: unknown): string[] {
  const parsed = ProgramConfig.safeParse(raw);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('program configuration: approval levels, approvers, escalation, national ceiling', () => {
  it('the bundled years have two levels, district head first, each district naming a primary and an alternate for both', () => {
    for (const raw of [program2020, program2024]) {
      const config = z.parse(ProgramConfig, raw);
      expect(config.approvalLevels.map((l) => l.id)).toEqual(['district', 'directorate']);
      expect(config.deadlines.escalateAfter).toBe(5 * 86_400);
      expect(config.grant.nationalCeiling).toBeGreaterThan(0);
      for (const code of Object.keys(config.districts)) {
        for (const level of ['district', 'directorate']) {
          const { primary, alternate } = approversOf(config, code, level);
          expect(primary).not.toBe(alternate);
        }
      }
      expect(approvalLevel(config, 'district')).toMatchObject({ position: 1, of: 2, next: { id: 'directorate' } });
      expect(approvalLevel(config, 'directorate')).toMatchObject({ position: 2, of: 2, next: undefined });
    }
  });

  it('a district without approvers for a level is refused, naming the district and the level', () => {
    const broken = structuredClone(program2020);
    delete broken.districts['3217'].approvers.directorate;
    expect(problems(broken)).toEqual([
      'districts.3217.approvers.directorate: district 3217 names no approvers for level "directorate" (a primary and an alternate)',
    ]);
  });

  it('an approver missing or not an address, and an alternate who is the primary, are refused', () => {
    const broken = structuredClone(program2020);
    delete broken.districts['3210'].approvers.district.alternate;
    broken.districts['3171'].approvers.district.primary = 'kepala dinas';
    broken.districts['3402'].approvers.directorate.alternate =
      broken.districts['3402'].approvers.directorate.primary.toUpperCase();
    expect(problems(broken)).toEqual([
      // District codes are integer-like keys: JavaScript orders them by number.
      'districts.3171.approvers.district.primary: Invalid email address',
      'districts.3210.approvers.district.alternate: Invalid input: expected string, received undefined',
      'districts.3402.approvers.directorate.alternate: the alternate approver must be someone other than the primary',
    ]);
  });

  it('approvers for a level the program does not have are refused (a typo would otherwise approve nothing)', () => {
    const broken = structuredClone(program2020);
    broken.districts['3322'].approvers.directorat = broken.districts['3322'].approvers.directorate;
    expect(problems(broken)).toEqual([
      'districts.3322.approvers.directorat: district 3322 names approvers for "directorat", which is not one of the approvalLevels (district, directorate)',
    ]);
  });

  it('an escalation period that is not shorter than the deadline, no levels, or two levels with one id are refused', () => {
    const late = structuredClone(program2020);
    late.deadlines.escalateAfter = '14d';
    expect(problems(late)).toEqual([
      'deadlines.escalateAfter: deadlines.escalateAfter must be shorter than deadlines.grantApproval (else nothing ever escalates)',
    ]);
    const none = structuredClone(program2020);
    none.approvalLevels = [];
    expect(problems(none)[0]).toMatch(/^approvalLevels: Too small/);
    const twice = structuredClone(program2020);
    twice.approvalLevels[1].id = 'district';
    expect(problems(twice)).toContain('approvalLevels: approval level ids must differ');
  });

  it('a program year without a national ceiling, or a ceiling of zero, is refused', () => {
    const missing = structuredClone(program2020);
    delete missing.grant.nationalCeiling;
    expect(problems(missing)).toEqual(['grant.nationalCeiling: Invalid input: expected number, received undefined']);
    const zero = structuredClone(program2020);
    zero.grant.nationalCeiling = 0;
    expect(problems(zero)).toEqual(['grant.nationalCeiling: Too small: expected number to be >0']);
  });

  it('an unknown level asked of the configuration is a named ProgramConfigError', () => {
    const config = z.parse(ProgramConfig, program2020);
    expect(() => approvalLevel(config, 'province')).toThrow(expect.objectContaining({ name: 'ProgramConfigError' }));
    expect(() => approversOf(config, '9999', 'district')).toThrow(expect.objectContaining({ name: 'ProgramConfigError' }));
  });
});
