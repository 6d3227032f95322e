/**
 * A district's proposal file, read and checked: the template (proposal-template.ts),
 * the checks of each row (proposal-row.ts), and here the file as a whole: opening any
 * spreadsheet officers produce (CSV in any of its encodings, XLSX), finding the
 * template's columns in its header, and every row's findings, streamed. Pure: nothing
 * here touches a store, so the same reading serves the upload (ReadProposal), the dry
 * run (`prokus validate`), and tests.
 */

import {
  type CellKind,
  columnLetter,
  type FileProblem,
  matchColumns,
  normalizeHeader,
  openSheet,
  parseDate,
  type Separator,
  SheetError,
  type SheetFormat,
  type SheetInput,
  type SheetOptions,
  type SheetRow,
} from '#intake/sheet';
import { duplicateColumnProblem, missingColumnsProblem } from '#intake/sheet/header';
import {
  type CheckContext,
  checkRow,
  DuplicateTracker,
  type Finding,
  type RowCheck,
  type RowKinds,
  type RowStatus,
  type RowValues,
  statusOf,
} from './proposal-row.ts';
import {
  BIRTH_DATE_IF_DATES,
  isProposalHeader,
  PROPOSAL_COLUMN_LABELS,
  PROPOSAL_COLUMNS,
  type ProposalColumn,
} from './proposal-template.ts';

export {
  alreadyProposed,
  type CheckContext,
  checkRow,
  DuplicateTracker,
  type EarlierProposal,
  type Finding,
  normalizePhone,
  type ProposedFamily,
  parseRupiah,
  type RowCheck,
  type RowKinds,
  type RowStatus,
  type RowValues,
  statusOf,
} from './proposal-row.ts';
export { PROPOSAL_COLUMN_LABELS, PROPOSAL_COLUMNS, type ProposalColumn } from './proposal-template.ts';

export const fileProblems = {
  noRows: {
    code: 'FILE_NO_ROWS',
    message: {
      id: 'Berkas hanya berisi baris judul, tanpa baris usulan.',
      en: 'The file has a header row but no proposal rows.',
    },
  },
  unknownDistrict: (district: string, programYear: number): FileProblem => ({
    code: 'DISTRICT_UNKNOWN',
    message: {
      id: `Folder "${district}" bukan kode kabupaten/kota peserta program tahun ${programYear}. Unggah ke proposals/<kode kabupaten/kota>/.`,
      en: `Folder "${district}" is not the code of a district in program year ${programYear}. Upload to proposals/<district code>/.`,
    },
  }),
  unknownProgramYear: (raw: string): FileProblem => ({
    code: 'PROGRAM_YEAR_UNKNOWN',
    message: {
      id: `Tahun program "${raw}" tidak dikenal.`,
      en: `Program year "${raw}" is not configured.`,
    },
  }),
} satisfies Record<string, FileProblem | ((...args: never[]) => FileProblem)>;

function unknownColumn(name: string, column: number): FileProblem {
  const letter = columnLetter(column);
  return {
    code: 'HEADER_UNKNOWN_COLUMN',
    field: name,
    message: {
      id: `Kolom ${letter} ("${name}") tidak dikenal dan diabaikan.`,
      en: `Column ${letter} ("${name}") is not part of the template and was ignored.`,
    },
  };
}

const TTL_NOT_DATES = {
  id: 'Kolom TTL berisi tempat dan tanggal lahir sekaligus: tulis tanggal lahir di kolom tanggal_lahir tersendiri.',
  en: 'The TTL column holds the place and the date of birth together: put the birth date in a column of its own, tanggal_lahir.',
};

export interface CheckedRow {
  row: number;
  check: RowCheck;
}

export interface ProposalFile {
  format: SheetFormat;
  separator: Separator;
  /** XLSX: the sheet read. */
  sheetName?: string;
  headerRow: number;
  fileWarnings: FileProblem[];
  /** Data rows with their checks (within-file duplicates included). Single use. */
  rows: AsyncIterable<CheckedRow>;
}

/** Rows looked at to decide whether a `TTL` column holds dates. */
const PEEK_ROWS = 20;

async function peek(rows: AsyncIterable<SheetRow>, n: number): Promise<{ first: SheetRow[]; rest: AsyncIterator<SheetRow> }> {
  const rest = rows[Symbol.asyncIterator]();
  const first: SheetRow[] = [];
  while (first.length < n) {
    const next = await rest.next();
    if (next.done) break;
    first.push(next.value);
  }
  return { first, rest };
}

function isDateColumn(column: number, rows: readonly SheetRow[]): boolean {
  let dates = 0;
  for (const r of rows) {
    const text = (r.cells[column] ?? '').trim();
    if (text === '') continue;
    if (r.kinds?.[column] !== 'date' && !parseDate(text)) return false;
    dates += 1;
  }
  return dates > 0;
}

/**
 * A row under the header that only numbers the columns (`1 2 3 …` or `(1) (2) (3) …`),
 * as printed forms have: not a family.
 */
function isColumnNumbers(cells: readonly string[]): boolean {
  let expected = 0;
  for (const c of cells) {
    const s = c.trim();
    if (s === '') continue;
    const m = /^\(?(\d{1,2})\)?$/.exec(s);
    if (!m || Number(m[1]) <= expected) return false;
    expected = Number(m[1]);
  }
  return expected >= 3;
}

/**
 * Opens a proposal file and matches its header. Throws SheetError when it cannot be
 * read; iterating `rows` throws SheetError when it breaks further down.
 */
export async function openProposal(input: SheetInput, ctx: CheckContext, opts: SheetOptions = {}): Promise<ProposalFile> {
  const sheet = await openSheet(input, { isHeader: isProposalHeader, ...opts });
  let rows: AsyncIterator<SheetRow> = sheet.rows[Symbol.asyncIterator]();
  let first: SheetRow[] = [];
  try {
    const m = matchColumns(sheet.header, PROPOSAL_COLUMNS);
    const duplicate = m.duplicates[0];
    if (duplicate) throw new SheetError(duplicateColumnProblem(duplicate));
    const ttl = m.missing.includes('tanggal_lahir')
      ? m.unknown.find((u) => BIRTH_DATE_IF_DATES.has(normalizeHeader(u.name)))
      : undefined;
    if (ttl) {
      ({ first, rest: rows } = await peek(sheet.rows, PEEK_ROWS));
      if (isDateColumn(ttl.column, first)) {
        m.index.tanggal_lahir = ttl.column;
        m.missing = m.missing.filter((name) => name !== 'tanggal_lahir');
        m.unknown = m.unknown.filter((u) => u !== ttl);
      }
    }
    if (m.missing.length > 0) {
      const hint = ttl && m.missing.includes('tanggal_lahir') ? TTL_NOT_DATES : undefined;
      throw new SheetError(missingColumnsProblem(m.missing, { labels: PROPOSAL_COLUMN_LABELS, ...(hint ? { hint } : {}) }));
    }
    const columns = Object.entries(m.index) as [ProposalColumn, number][];
    const numbering = sheet.headerRow + 1;

    const duplicates = new DuplicateTracker();
    const check = ({ row, cells, kinds: cellKinds }: SheetRow): CheckedRow | undefined => {
      if (row === numbering && isColumnNumbers(cells)) return undefined;
      const values: RowValues = {};
      let kinds: RowKinds | undefined;
      for (const [name, i] of columns) values[name] = cells[i] ?? '';
      if (cellKinds) {
        kinds = {};
        for (const [name, i] of columns) kinds[name] = cellKinds[i] ?? ('text' satisfies CellKind);
      }
      const result = checkRow(values, ctx, kinds);
      const dup = duplicates.check(row, values, kinds);
      if (dup.length === 0) return { row, check: result };
      return { row, check: { ok: false, findings: [...(result.ok ? result.warnings : result.findings), ...dup] } };
    };
    async function* checked(): AsyncGenerator<CheckedRow> {
      try {
        for (const r of first.splice(0)) {
          const c = check(r);
          if (c) yield c;
        }
        for (let next = await rows.next(); !next.done; next = await rows.next()) {
          const c = check(next.value);
          if (c) yield c;
        }
      } finally {
        // Also when the reader stops early: the file's stream is let go.
        sheet.close();
      }
    }
    return {
      format: sheet.format,
      separator: sheet.separator,
      ...(sheet.sheetName !== undefined ? { sheetName: sheet.sheetName } : {}),
      headerRow: sheet.headerRow,
      fileWarnings: m.unknown.map((u) => unknownColumn(u.name, u.column)),
      rows: checked(),
    };
  } catch (e) {
    sheet.close();
    throw e;
  }
}

export interface RowResult {
  row: number;
  status: RowStatus;
  errors: Finding[];
}

export interface ProposalScan {
  ok: true;
  format: SheetFormat;
  separator: Separator;
  sheetName?: string;
  fileWarnings: FileProblem[];
  summary: Record<RowStatus, number>;
}

export type ProposalCheck = (ProposalScan & { rows: RowResult[] }) | { ok: false; problem: FileProblem };

/**
 * Checks a whole file without touching any store: the dry run. "Already proposed" needs
 * the store and is left to the upload; everything else an upload would say, this says.
 */
export async function checkProposal(input: SheetInput, ctx: CheckContext, opts: SheetOptions = {}): Promise<ProposalCheck> {
  const rows: RowResult[] = [];
  const result = await scanProposal(input, ctx, (r) => rows.push(r), opts);
  return result.ok ? { ...result, rows } : result;
}

/**
 * Reads a whole proposal file through every check, handing each row's result to `onRow`
 * and keeping nothing else: memory stays flat however long the file is. A file that
 * cannot be read (or breaks halfway) is `{ ok: false, problem }`; a failure of the
 * source itself (a dropped connection) is thrown, to be retried.
 */
export async function scanProposal(
  input: SheetInput,
  ctx: CheckContext,
  onRow: (result: RowResult) => void = () => {},
  opts: SheetOptions = {},
): Promise<ProposalScan | { ok: false; problem: FileProblem }> {
  try {
    const file = await openProposal(input, ctx, opts);
    const summary: Record<RowStatus, number> = { accepted: 0, warning: 0, rejected: 0 };
    for await (const { row, check } of file.rows) {
      const errors = check.ok ? check.warnings : check.findings;
      const status = statusOf(errors);
      summary[status] += 1;
      onRow({ row, status, errors });
    }
    if (summary.accepted + summary.warning + summary.rejected === 0) return { ok: false, problem: fileProblems.noRows };
    return {
      ok: true,
      format: file.format,
      separator: file.separator,
      ...(file.sheetName !== undefined ? { sheetName: file.sheetName } : {}),
      fileWarnings: file.fileWarnings,
      summary,
    };
  } catch (e) {
    if (e instanceof SheetError) return { ok: false, problem: e.problem };
    throw e;
  }
}
