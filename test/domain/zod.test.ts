/**
 * functions/ validates with zod/mini (small bundles); these pin down what the classic API
 * did that mini does not do by itself, and that people and the state machines see.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Case } from '#domain/case';
import { ProgramConfig } from '#domain/program';
import * as z from '#domain/zod';

const program2020 = JSON.parse(readFileSync(new URL('../../programs/2020.json', import.meta.url), 'utf8'));

describe('zod as functions/ uses it', () => {
  it('throws an Error named ZodError from z.parse, the error type a failed task reports', () => {
    let thrown: unknown;
    try {
      z.parse(Case, { caseId: 'x' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ name: 'ZodError' });
    expect(JSON.parse((thrown as Error).message)[0]).toMatchObject({ code: 'invalid_type', path: ['district'] });
  });

  it('explains a broken program configuration in English, as operators read it', () => {
    const broken = structuredClone(program2020);
    delete broken.version;
    broken.deadlines.grantApproval = '14 days';
    broken.financingSchemes[0].lenderEmail = 'not-an-address';
    const parsed = ProgramConfig.safeParse(broken);
    expect(parsed.success).toBe(false);
    expect(z.prettifyError(parsed.error!)).toBe(
      [
        '✖ Invalid input: expected string, received undefined',
        '  → at version',
        '✖ duration like "14d", "12h", "30m" or "45s"',
        '  → at deadlines.grantApproval',
        '✖ Invalid email address',
        '  → at financingSchemes[0].lenderEmail',
      ].join('\n'),
    );
  });

  it('accepts the bundled program configurations and turns their durations into seconds', () => {
    const parsed = z.parse(ProgramConfig, program2020);
    expect(parsed.deadlines.grantApproval).toBe(Number(program2020.deadlines.grantApproval.slice(0, -1)) * 86_400);
  });
});
