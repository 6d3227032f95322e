/**
 * Everything a page about one request shows, gathered once: the request, its case, the
 * program rules of the case's year and the family's unsealed personal record.
 * The personal record is used for the name only; it never leaves this process except as
 * the name (and, for approvers, nothing more) rendered into the page.
 */

import { type Case, Personal } from '#domain/case';
import { type ProgramConfig, programFor } from '#domain/program';
import * as z from '#domain/zod';
import { unseal } from '#lib/secrets';
import type { Request } from '#requests/requests';
import { getCase } from '#store/cases';

export interface PageContext {
  request: Request;
  case: Case;
  program: ProgramConfig;
  personal: Personal;
}

export async function loadContext(request: Request): Promise<PageContext> {
  const c = await getCase(request.caseId);
  return { request, case: c, program: programFor(c.programYear), personal: z.parse(Personal, unseal(c.personal)) };
}

export function districtName(ctx: PageContext): string {
  return ctx.program.districts[ctx.case.district]?.name ?? ctx.case.district;
}

/** Raw form fields as the urlencoded parser gives them: a repeated field (checkboxes) is a list. */
export type FormValues = Record<string, string | string[]>;

export function one(values: FormValues, name: string): string {
  const v = values[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

export function many(values: FormValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
