/**
 * The intake report an officer reads: CSV (opened in Excel) and JSON (read by tools),
 * written next to the upload, and the summary email. Pure builders. The report names
 * rows, columns and codes, never a value from the row: the file it sits next to is the
 * only place the personal data is.
 */

import { stringify } from 'csv-stringify/sync';
import type { Bilingual } from '#domain/errors';
import type { FileProblem, Separator, SheetFormat } from '#intake/sheet';
import type { Finding, RowResult, RowStatus } from './proposal.ts';

export interface ProposalReport {
  file: string;
  district: string;
  programYear: number;
  uploadId: string;
  /** Every data row, in file order. */
  rows: RowResult[];
  summary: Record<RowStatus, number>;
  fileWarnings: FileProblem[];
  /**
   * What was read: the format, and for a workbook the worksheet, so an officer whose
   * workbook has several sheets sees which one counted.
   */
  source?: { format: SheetFormat; sheetName?: string };
  /** Set when the file could not be read at all; then nothing in it started. */
  error?: FileProblem;
}

export function summarize(rows: readonly RowResult[]): Record<RowStatus, number> {
  const summary: Record<RowStatus, number> = { accepted: 0, warning: 0, rejected: 0 };
  for (const r of rows) summary[r.status] += 1;
  return summary;
}

const finding = (f: Finding) => ({ code: f.code, field: f.field, severity: f.severity, message: f.message });
const problem = (p: FileProblem) => ({ code: p.code, field: p.field ?? '', message: p.message });

export function reportJson(report: ProposalReport): string {
  return JSON.stringify(
    {
      file: report.file,
      district: report.district,
      programYear: report.programYear,
      uploadId: report.uploadId,
      ...(report.source ? { format: report.source.format } : {}),
      ...(report.source?.sheetName !== undefined ? { sheet: report.source.sheetName } : {}),
      ...(report.error ? { error: problem(report.error) } : {}),
      rows: report.rows.map((r) => ({ row: r.row, status: r.status, errors: r.errors.map(finding) })),
      summary: report.summary,
      fileWarnings: report.fileWarnings.map(problem),
    },
    null,
    2,
  );
}

/**
 * A cell Excel would read as a formula is prefixed with `'` (OWASP's advice against CSV
 * injection): column names from the upload's header end up in the report, and a header
 * cell like `=HYPERLINK(…)` must stay text. Not only at the cell's start: Excel set to
 * Indonesian opens a `,` file with `;` (and the other way round), where quoting no longer
 * holds, so every piece after a `,` `;` or tab that starts with a formula character is
 * prefixed too. csv-stringify's own `escape_formulas` looks at the cell's start only.
 */
export function neutralizeCell(value: string): string {
  return value.replace(/^[\t\r]/, "'$&").replace(/(^|[,;\t])(["]*)([=+\-@])/g, "$1$2'$3");
}

/**
 * Cells holding any separator Excel may split on are quoted, whatever this file's own
 * separator: Indonesian Excel opens a `,` file with `;`, and an unquoted `x;=cmd|…` would
 * then become a live formula cell of its own.
 */
const ANY_SEPARATOR = /[,;\t]/;

export const REPORT_CSV_COLUMNS = ['row', 'status', 'field', 'code', 'pesan', 'message'] as const;

/**
 * One line per finding, then nothing for rows without findings. Same separator as the
 * upload, so it opens in the officer's Excel as their own file did; a BOM so Excel
 * reads it as UTF-8.
 */
export function reportCsv(report: ProposalReport, separator: Separator = ','): string {
  const lines: (string | number)[][] = [[...REPORT_CSV_COLUMNS]];
  if (report.error) {
    const e = report.error;
    lines.push([1, 'rejected', e.field ?? '', e.code, e.message.id, e.message.en]);
  }
  for (const w of report.fileWarnings) lines.push([1, 'warning', w.field ?? '', w.code, w.message.id, w.message.en]);
  for (const r of report.rows) {
    for (const f of r.errors) lines.push([r.row, r.status, f.field, f.code, f.message.id, f.message.en]);
  }
  return stringify(
    lines.map((cells) => cells.map((c) => neutralizeCell(String(c)))),
    { delimiter: separator, record_delimiter: '\r\n', quoted_match: ANY_SEPARATOR, bom: true },
  );
}

function topCodes(rows: readonly RowResult[], limit: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rows) for (const f of r.errors) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
}

export interface SummaryMail {
  subject: string;
  text: string;
}

/** The email to the uploader: counts and the most frequent findings; the report is attached. */
export function summaryMail(report: ProposalReport, districtName: string | undefined, fileName: string): SummaryMail {
  const where = districtName ? `${districtName} (${report.district})` : report.district;
  const s = report.summary;
  const lines: string[] = [];
  const both = (t: Bilingual) => lines.push(t.id, t.en, '');
  let subject: string;
  if (report.error) {
    subject = `[Prokus] Berkas usulan ditolak / Proposal file rejected: ${fileName}`;
    both({
      id: `Berkas usulan ${fileName} dari ${where} (tahun program ${report.programYear}) tidak dapat dibaca. Tidak ada keluarga yang diproses.`,
      en: `The proposal file ${fileName} from ${where} (program year ${report.programYear}) could not be read. No family was processed.`,
    });
    both({
      id: `Alasan (${report.error.code}): ${report.error.message.id}`,
      en: `Reason (${report.error.code}): ${report.error.message.en}`,
    });
  } else {
    const accepted = s.accepted + s.warning;
    subject = `[Prokus] Hasil usulan / Proposal result ${fileName}: ${accepted} diterima/accepted, ${s.rejected} ditolak/rejected`;
    const sheet = report.source?.sheetName;
    both({
      id: `Berkas usulan ${fileName} dari ${where} (tahun program ${report.programYear}) sudah diperiksa${sheet !== undefined ? `: lembar kerja "${sheet}"` : ''}.`,
      en: `The proposal file ${fileName} from ${where} (program year ${report.programYear}) has been checked${sheet !== undefined ? `: worksheet "${sheet}"` : ''}.`,
    });
    both({
      id: `Diterima: ${accepted} keluarga (${s.warning} di antaranya dengan catatan). Ditolak: ${s.rejected} baris.`,
      en: `Accepted: ${accepted} families (${s.warning} of them with a note). Rejected: ${s.rejected} rows.`,
    });
    const codes = topCodes(report.rows, 5);
    if (codes.length > 0) {
      lines.push('Temuan terbanyak / Most frequent findings:');
      for (const [code, n] of codes) lines.push(`  ${code}: ${n}`);
      lines.push('');
    }
    if (s.rejected > 0) {
      both({
        id: 'Perbaiki baris yang ditolak (lihat laporan terlampir) dan unggah hanya baris tersebut dalam berkas baru.',
        en: 'Fix the rejected rows (see the attached report) and upload only those rows in a new file.',
      });
    }
  }
  for (const w of report.fileWarnings) both(w.message);
  both({
    id: 'Laporan lengkap per baris terlampir dan tersimpan di samping berkas yang diunggah.',
    en: 'The full report by row is attached and stored next to the uploaded file.',
  });
  return { subject, text: lines.join('\n') };
}
