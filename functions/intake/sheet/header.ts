/**
 * Finding the template's columns in the header row an officer actually wrote:
 * `No. KK`, `NO_KK`, `Nomor KK` and `kk` are all the family card number. Matching
 * ignores case and everything but letters and digits (spaces, dots, underscores,
 * slashes, hyphens, a `*` marking a required column), then looks the result up among
 * each column's name and aliases; failing that, it tries again without a note in
 * brackets (`Jenis Kelamin (L/P)`, `Omzet (Rp)`).
 */
import type { Bilingual } from '#domain/errors';
import type { FileProblem } from './problems.ts';

/** A note in brackets after a column name: `(L/P)`, `(Rp)`, `[dd/mm/yyyy]`. */
const BRACKETED = /\([^)]*\)|\[[^\]]*]/g;

export function normalizeHeader(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** `A`, `B`, … `Z`, `AA`: how Excel names the column at a 0-based index. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

export interface ColumnSpec<N extends string = string> {
  name: N;
  required: boolean;
  /** Other spellings officers use; matched after normalising like the name. */
  aliases?: readonly string[];
}

export interface ColumnMatch<N extends string> {
  /** Column index (0 = A) of each template column found. */
  index: Partial<Record<N, number>>;
  /** Header cells that name no template column (blank ones left out). */
  unknown: { column: number; name: string }[];
  /** A template column named by more than one header cell: the first two. */
  duplicates: { name: N; columns: [{ column: number; header: string }, { column: number; header: string }] }[];
  /** Required template columns not found. */
  missing: N[];
}

/** Every template column's place in the header row, and what does not fit. */
export function matchColumns<N extends string>(header: readonly string[], columns: readonly ColumnSpec<N>[]): ColumnMatch<N> {
  const byKey = new Map<string, N>();
  for (const c of columns) {
    byKey.set(normalizeHeader(c.name), c.name);
    for (const alias of c.aliases ?? []) byKey.set(normalizeHeader(alias), c.name);
  }
  const index: Partial<Record<N, number>> = {};
  const unknown: ColumnMatch<N>['unknown'] = [];
  const duplicates: ColumnMatch<N>['duplicates'] = [];
  for (const [i, raw] of header.entries()) {
    const name = byKey.get(normalizeHeader(raw)) ?? byKey.get(normalizeHeader(raw.replace(BRACKETED, '')));
    if (name === undefined) {
      if (raw.trim() !== '') unknown.push({ column: i, name: raw.trim() });
      continue;
    }
    const earlier = index[name];
    if (earlier === undefined) {
      index[name] = i;
    } else if (!duplicates.some((d) => d.name === name)) {
      duplicates.push({
        name,
        columns: [
          { column: earlier, header: (header[earlier] ?? '').trim() },
          { column: i, header: raw.trim() },
        ],
      });
    }
  }
  const missing = columns.filter((c) => c.required && index[c.name] === undefined).map((c) => c.name);
  return { index, unknown, duplicates, missing };
}

export function duplicateColumnProblem<N extends string>(d: ColumnMatch<N>['duplicates'][number]): FileProblem {
  const [a, b] = d.columns;
  const both = `${columnLetter(a.column)} ("${a.header}")`;
  const and = `${columnLetter(b.column)} ("${b.header}")`;
  return {
    code: 'HEADER_DUPLICATE_COLUMN',
    field: d.name,
    message: {
      id: `Kolom ${both} dan kolom ${and} sama-sama berarti "${d.name}". Hapus atau ganti nama salah satunya.`,
      en: `Column ${both} and column ${and} both mean "${d.name}". Remove or rename one of them.`,
    },
  };
}

/**
 * Names the missing columns as the template writes them, with what they hold in each
 * language when `labels` says (`tanggal_lahir (tanggal lahir)` / `tanggal_lahir (birth date)`).
 */
export function missingColumnsProblem(
  missing: readonly string[],
  opts: { labels?: Partial<Record<string, Bilingual>>; hint?: Bilingual } = {},
): FileProblem {
  const list = (lang: keyof Bilingual) =>
    missing.map((name) => (opts.labels?.[name] ? `${name} (${opts.labels[name][lang]})` : name)).join(', ');
  const hint = (lang: keyof Bilingual) => (opts.hint ? ` ${opts.hint[lang]}` : '');
  return {
    code: 'HEADER_MISSING_COLUMN',
    field: missing.join(' '),
    message: {
      id: `Kolom wajib tidak ditemukan di baris judul: ${list('id')}. Gunakan templat usulan.${hint('id')}`,
      en: `Required columns missing from the header row: ${list('en')}. Use the proposal template.${hint('en')}`,
    },
  };
}

export type HeaderMatch<N extends string> =
  | { ok: true; index: Partial<Record<N, number>>; unknown: { column: number; name: string }[] }
  | { ok: false; problem: FileProblem };

/** The header row judged: every required column once, or the problem to report. */
export function matchHeader<N extends string>(header: readonly string[], columns: readonly ColumnSpec<N>[]): HeaderMatch<N> {
  const m = matchColumns(header, columns);
  const duplicate = m.duplicates[0];
  if (duplicate) return { ok: false, problem: duplicateColumnProblem(duplicate) };
  if (m.missing.length > 0) return { ok: false, problem: missingColumnsProblem(m.missing) };
  return { ok: true, index: m.index, unknown: m.unknown };
}

/** Cells of a row by column name; a short row reads as empty cells. */
export function cellsByName<N extends string>(cells: readonly string[], index: Partial<Record<N, number>>): Record<N, string> {
  const out = {} as Record<N, string>;
  for (const [name, i] of Object.entries(index) as [N, number][]) out[name] = cells[i] ?? '';
  return out;
}
