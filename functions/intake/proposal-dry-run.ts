/**
 * The dry run of a proposal file: every check an upload makes, nothing stored. One code
 * path for the two places an officer sees the verdicts before uploading: `prokus
 * validate` (cli/validate.ts, a file on this machine) and the upload page's check
 * (officers/, a file the browser put under `checks/` in the bucket). Both get the same
 * rows, codes, bilingual messages and spreadsheet row numbers, because both are this.
 *
 * What is done with each row's verdict (spooled to disk by the CLI, kept up to a limit
 * by the page) is the caller's; this keeps only the counts and the notes on accepted rows.
 */
import type { Bilingual } from '#domain/errors';
import { programFor, programYears } from '#domain/program';
import { fileProblems, type RowResult, type RowStatus, scanProposal } from './proposal.ts';
import type { FileProblem, SheetFormat, SheetInput } from './sheet/index.ts';

/** What a dry run cannot check, said in every report so nobody mistakes it for a full intake. */
export const NOT_CHECKED_OFFLINE: FileProblem = {
  code: 'ALREADY_PROPOSED',
  message: {
    id: 'Belum diperiksa: apakah keluarga sudah diusulkan dalam berkas sebelumnya (di kabupaten/kota atau tahun mana pun). Pemeriksaan ini memerlukan data kasus dan dilakukan saat berkas diunggah.',
    en: 'Not checked: whether a family was already proposed in an earlier file (in any district or year). That check needs the case store and is made when the file is uploaded.',
  },
};

export interface JsonFinding {
  code: string;
  field: string;
  message: Bilingual;
}

/** One row's verdict as `prokus validate --json` prints it and the check page shows it. */
export interface JsonRow {
  row: number;
  status: RowStatus;
  errors: JsonFinding[];
}

export const toJsonRow = (r: RowResult): JsonRow => ({
  row: r.row,
  status: r.status,
  errors: r.errors.map((f) => ({ code: f.code, field: f.field, message: { id: f.message.id, en: f.message.en } })),
});

/** Warnings of accepted rows, by code: the text report names a few rows of each. */
export interface NoteTally {
  code: string;
  field: string;
  message: Bilingual;
  rows: number;
  firstRows: number[];
}

const NOTE_ROWS_SHOWN = 10;

/** The district and program year a dry run checks for: the latest configured year when none is given, as on upload. */
export function dryRunTarget(
  district: string,
  programYear: number | undefined,
): { ok: true; districtName: string; programYear: number } | { ok: false; problem: FileProblem } {
  const years = programYears();
  const year = programYear ?? years.at(-1);
  if (year === undefined || !years.includes(year))
    return { ok: false, problem: fileProblems.unknownProgramYear(String(programYear)) };
  const entry = /^\d{4}$/.test(district) ? programFor(year).districts[district] : undefined;
  if (!entry) return { ok: false, problem: fileProblems.unknownDistrict(district, year) };
  return { ok: true, districtName: entry.name, programYear: year };
}

export interface DryRunRequest {
  district: string;
  programYear?: number;
  today?: Date;
  /** Only words messages; the format comes from the bytes. */
  fileName: string;
  /** When known: a file over the limit is refused before a byte of it is read. */
  size?: number;
}

export interface DryRun {
  ok: true;
  district: string;
  districtName: string;
  programYear: number;
  format: SheetFormat;
  sheetName?: string;
  summary: Record<RowStatus, number>;
  fileWarnings: FileProblem[];
  notChecked: FileProblem[];
  notes: NoteTally[];
}

/**
 * Checks the file, row by row, handing each verdict to `onRow` in file order.
 * `{ ok: false, problem }` when it cannot be checked at all (unknown district or year,
 * or what the sheet reader refuses: empty, header only, missing columns, not a
 * spreadsheet, too large). A failing source (a dropped connection) is thrown.
 */
export async function dryRunProposal(
  input: SheetInput,
  req: DryRunRequest,
  onRow: (r: RowResult) => void,
): Promise<DryRun | { ok: false; problem: FileProblem }> {
  const target = dryRunTarget(req.district, req.programYear);
  if (!target.ok) return target;
  const notes = new Map<string, NoteTally>();
  const ctx = { district: req.district, today: req.today ?? new Date() };
  const sheet = { fileName: req.fileName, ...(req.size !== undefined ? { size: req.size } : {}) };
  const result = await scanProposal(
    input,
    ctx,
    (r) => {
      onRow(r);
      if (r.status !== 'warning') return;
      for (const f of r.errors) {
        const key = `${f.code}\u0000${f.field}`;
        const tally = notes.get(key) ?? { code: f.code, field: f.field, message: f.message, rows: 0, firstRows: [] };
        tally.rows += 1;
        if (tally.firstRows.length < NOTE_ROWS_SHOWN) tally.firstRows.push(r.row);
        notes.set(key, tally);
      }
    },
    sheet,
  );
  if (!result.ok) return result;
  return {
    ok: true,
    district: req.district,
    districtName: target.districtName,
    programYear: target.programYear,
    format: result.format,
    ...(result.sheetName ? { sheetName: result.sheetName } : {}),
    summary: result.summary,
    fileWarnings: result.fileWarnings,
    notChecked: [NOT_CHECKED_OFFLINE],
    notes: [...notes.values()],
  };
}
