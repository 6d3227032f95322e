/**
 * Program configuration: the rules that change by program year (age limit, deciles,
 * grant amount, deadlines, milestone plan, financing schemes). They are data, validated
 * here at load time; every decision records the `version` it used.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import program2020 from '../../programs/2020.json' with { type: 'json' };
import program2024 from '../../programs/2024.json' with { type: 'json' };
import { ProgramConfigError } from './errors.ts';
import * as z from './zod.ts';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** "14d", "12h", "30m", "45s" → seconds. Durations read better than second counts in config. */
export const Duration = z.pipe(
  z.string().check(z.regex(/^\d+[smhd]$/, 'duration like "14d", "12h", "30m" or "45s"')),
  z.transform((s: string) => Number(s.slice(0, -1)) * UNIT_SECONDS[s.slice(-1) as keyof typeof UNIT_SECONDS]),
);

const BilingualText = z.object({ id: z.string().check(z.minLength(1)), en: z.string().check(z.minLength(1)) });

export const Grade = z.enum(['pemula', 'berkembang', 'maju']);
export type Grade = z.infer<typeof Grade>;

export const Practice = z.enum([
  'separatesBusinessMoney',
  'packagingAndBranding',
  'sellsOnline',
  'hasBusinessPermit',
  'keepsBookkeeping',
]);
export type Practice = z.infer<typeof Practice>;

const FinancingScheme = z.object({
  id: z.enum(['kur', 'mekaar', 'umi', 'koperasi']),
  name: z.string(),
  lenderEmail: z.email(),
  /** Grades the scheme accepts. */
  grades: z.array(Grade).check(z.minLength(1)),
  /** Minimum monthly revenue (rupiah) in the latest mentoring report. */
  minMonthlyRevenue: z._default(z.int().check(z.nonnegative()), 0),
  /** Only for women-led businesses (PNM Mekaar lends to women's groups). */
  womenOnly: z._default(z.boolean(), false),
  ceilingRupiah: z.int().check(z.positive()),
});

/** The two people of one approval level in one district; the alternate takes over when the request escalates. */
const Approvers = z.object({ primary: z.email(), alternate: z.email() }).check(
  z.refine((a) => a.primary.toLowerCase() !== a.alternate.toLowerCase(), {
    message: 'the alternate approver must be someone other than the primary',
    path: ['alternate'],
  }),
);

export const ProgramConfig = z
  .object({
    version: z.string().check(z.minLength(1)),
    programYear: z.int().check(z.gte(2020), z.lte(2100)),
    eligibility: z.object({
      /** Age on the day of verification must be below this. */
      ageLimit: z.int().check(z.positive()),
      allowedDeciles: z.array(z.int().check(z.gte(1), z.lte(10))).check(z.minLength(1)),
      minBusinessMonths: z.int().check(z.nonnegative()),
    }),
    grant: z.object({
      amountRupiah: z.int().check(z.positive()),
      /**
       * The most grants the whole program year may reserve, over all districts. Districts
       * draw it in blocks (store/quota.ts), so it need not be a multiple of anything.
       */
      nationalCeiling: z.int().check(z.positive()),
    }),
    /**
     * Who approves a grant, in order: each level is its own request, and only the last
     * level's approval reserves the grant. Every district names its approvers per level.
     */
    approvalLevels: z
      .array(z.object({ id: z.string().check(z.regex(/^[a-z0-9-]+$/)), name: BilingualText }))
      .check(z.minLength(1)),
    deadlines: z.object({
      /** A level's final deadline, from its first request: past it the case closes `approval-expired`. */
      grantApproval: Duration,
      /** A level's request without a decision this long moves to that level's alternate approver. */
      escalateAfter: Duration,
      financingOutcome: Duration,
      /** A waiting request sends a reminder this often until its deadline. */
      reminderEvery: Duration,
    }),
    /** Mentoring milestones, reported in this order. `due` is the report deadline, counted from disbursement. */
    milestones: z
      .array(z.object({ id: z.string().check(z.regex(/^[a-z0-9-]+$/)), theme: BilingualText, due: Duration }))
      .check(z.minLength(1)),
    grading: z.object({
      maju: z.object({ minPractices: z.int(), minRevenueGrowthPercent: z.number() }),
      berkembang: z.object({ minPractices: z.int() }),
    }),
    /** First scheme whose rule matches wins; order from most to least demanding. */
    financingSchemes: z.array(FinancingScheme).check(z.minLength(1)),
    districts: z.record(
      z.string().check(z.regex(/^\d{4}$/)),
      z.object({
        name: z.string(),
        quota: z.int().check(z.positive()),
        mentorEmail: z.email(),
        /** Per approval level id: who gets the request first, and who gets it once it escalates. */
        approvers: z.record(z.string(), Approvers),
      }),
    ),
  })
  .check(
    z.refine((c) => c.financingSchemes.some((s) => s.grades.length === 3 && s.minMonthlyRevenue === 0 && !s.womenOnly), {
      message: 'one financing scheme must accept every family (the fallback)',
    }),
    z.refine((c) => c.deadlines.escalateAfter < c.deadlines.grantApproval, {
      message: 'deadlines.escalateAfter must be shorter than deadlines.grantApproval (else nothing ever escalates)',
      path: ['deadlines', 'escalateAfter'],
    }),
    z.refine((c) => new Set(c.approvalLevels.map((l) => l.id)).size === c.approvalLevels.length, {
      message: 'approval level ids must differ',
      path: ['approvalLevels'],
    }),
    z.superRefine((c, ctx) => {
      const levels = c.approvalLevels.map((l) => l.id);
      for (const [code, district] of Object.entries(c.districts)) {
        for (const level of levels) {
          if (!district.approvers[level]) {
            ctx.addIssue({
              code: 'custom',
              path: ['districts', code, 'approvers', level],
              message: `district ${code} names no approvers for level "${level}" (a primary and an alternate)`,
            });
          }
        }
        for (const level of Object.keys(district.approvers)) {
          if (!levels.includes(level)) {
            ctx.addIssue({
              code: 'custom',
              path: ['districts', code, 'approvers', level],
              message: `district ${code} names approvers for "${level}", which is not one of the approvalLevels (${levels.join(', ')})`,
            });
          }
        }
      }
    }),
  );
export type ProgramConfig = z.infer<typeof ProgramConfig>;

function parseConfig(raw: unknown, source: string): ProgramConfig {
  const parsed = ProgramConfig.safeParse(raw);
  if (!parsed.success) throw new ProgramConfigError(`${source}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

let programs: Map<number, ProgramConfig> | undefined;

/**
 * The bundled program years, plus any in PROKUS_PROGRAMS_DIR (a folder of `*.json`),
 * which lets tests and trial runs use their own deadlines without touching the bundle.
 */
function loadPrograms(): Map<number, ProgramConfig> {
  const all = new Map<number, ProgramConfig>();
  for (const [raw, source] of [
    [program2020, 'programs/2020.json'],
    [program2024, 'programs/2024.json'],
  ] as const) {
    const c = parseConfig(raw, source);
    all.set(c.programYear, c);
  }
  const dir = process.env.PROKUS_PROGRAMS_DIR;
  if (dir) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const c = parseConfig(JSON.parse(readFileSync(join(dir, file), 'utf8')), join(dir, file));
      all.set(c.programYear, c);
    }
  }
  return all;
}

export type ApprovalLevel = ProgramConfig['approvalLevels'][number];

/** The level, its 1-based position and the level after it (undefined for the last). */
export function approvalLevel(
  config: ProgramConfig,
  levelId: string,
): { level: ApprovalLevel; position: number; of: number; next: ApprovalLevel | undefined } {
  const index = config.approvalLevels.findIndex((l) => l.id === levelId);
  const level = config.approvalLevels[index];
  if (!level) throw new ProgramConfigError(`approval level "${levelId}" is not in program ${config.version}`);
  return { level, position: index + 1, of: config.approvalLevels.length, next: config.approvalLevels[index + 1] };
}

/** The primary and alternate approver of a district at a level. */
export function approversOf(config: ProgramConfig, district: string, levelId: string): { primary: string; alternate: string } {
  const approvers = config.districts[district]?.approvers[levelId];
  if (!approvers) throw new ProgramConfigError(`district ${district} has no approvers for level ${levelId} in ${config.version}`);
  return approvers;
}

export function programFor(programYear: number): ProgramConfig {
  programs ??= loadPrograms();
  const c = programs.get(programYear);
  if (!c) throw new ProgramConfigError(`no program configuration for ${programYear}`);
  return c;
}

/** Configured program years, oldest first; intake defaults to the latest. */
export function programYears(): number[] {
  programs ??= loadPrograms();
  return [...programs.keys()].sort((a, b) => a - b);
}

/** For tests that change PROKUS_PROGRAMS_DIR between cases. */
export function resetProgramCache(): void {
  programs = undefined;
}
