/**
 * The console's words: stages, steps, exits, durations and refusals, in Indonesian and
 * English. One table each, so a page, a chart and a CSV header say the same thing.
 */
import type { Outcome, Stage } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import { bucketBounds, type FunnelStep } from '#domain/funnel';
import type { Lang } from '#web/lang';

export const t = (text: Bilingual, lang: Lang) => text[lang];

export const STAGES: Record<Stage, Bilingual> = {
  verification: { id: 'Verifikasi', en: 'Verification' },
  'grant-approval': { id: 'Persetujuan bantuan', en: 'Grant approval' },
  disbursement: { id: 'Penyaluran bantuan', en: 'Disbursement' },
  mentoring: { id: 'Pendampingan', en: 'Mentoring' },
  'financing-referral': { id: 'Rujukan pembiayaan', en: 'Financing referral' },
  closed: { id: 'Berakhir', en: 'Closed' },
};

export const STEPS: Record<FunnelStep, Bilingual> = {
  proposed: { id: 'Diusulkan', en: 'Proposed' },
  eligible: { id: 'Memenuhi syarat', en: 'Eligible' },
  approved: { id: 'Disetujui', en: 'Approved' },
  disbursed: { id: 'Bantuan disalurkan', en: 'Disbursed' },
  graded: { id: 'Dinilai', en: 'Graded' },
  referred: { id: 'Dirujuk ke pembiayaan', en: 'Referred to financing' },
  financed: { id: 'Mendapat pembiayaan', en: 'Financed' },
};

export const OUTCOMES: Record<Outcome, Bilingual> = {
  graduated: { id: 'Lulus', en: 'Graduated' },
  ineligible: { id: 'Tidak memenuhi syarat', en: 'Ineligible' },
  rejected: { id: 'Ditolak', en: 'Rejected' },
  'approval-expired': { id: 'Persetujuan kedaluwarsa', en: 'Approval expired' },
  'quota-exhausted': { id: 'Kuota habis', en: 'Quota used up' },
  'mentoring-incomplete': { id: 'Pendampingan tidak lengkap', en: 'Mentoring incomplete' },
  'already-granted': { id: 'Sudah pernah menerima bantuan', en: 'Already granted' },
};

export const FAILED: Bilingual = { id: 'Gagal (menunggu dilanjutkan)', en: 'Failed (waiting to be resumed)' };

function amount(seconds: number, lang: Lang): string {
  const units: [number, Bilingual][] = [
    [86_400, { id: 'hari', en: 'days' }],
    [3600, { id: 'jam', en: 'hours' }],
    [60, { id: 'menit', en: 'minutes' }],
  ];
  for (const [size, unit] of units) if (seconds >= size) return `${Math.round(seconds / size)} ${unit[lang]}`;
  return `${seconds} ${lang === 'id' ? 'detik' : 'seconds'}`;
}

/** A histogram bucket as words: "1–3 hari", "< 1 menit", "≥ 365 hari". */
export function bucketLabel(bucket: number, lang: Lang): string {
  const { lower, upper } = bucketBounds(bucket);
  if (upper === undefined) return `≥ ${amount(lower, lang)}`;
  if (lower === 0) return `< ${amount(upper, lang)}`;
  return `${amount(lower, lang)} – ${amount(upper, lang)}`;
}

/** A time in Jakarta, as the program's staff read it. */
export function dateTime(iso: string | Date | undefined, lang: Lang): string {
  if (!iso) return '—';
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'Asia/Jakarta', dateStyle: 'medium', timeStyle: 'short' })} WIB`;
}

/** How long ago, in whole days or hours. */
export function ago(iso: string | undefined, now: Date, lang: Lang): string {
  if (!iso) return '—';
  const seconds = Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
  return amount(Math.floor(seconds), lang);
}

export const rupiah = (n: number) => `Rp ${n.toLocaleString('id-ID')}`;

/** Why the console refused what was asked: every one with its code, in both languages. */
export const REFUSALS = {
  SEARCH_EMPTY: { id: 'Ketik ID kasus atau NIK.', en: 'Type a case id or a NIK.' },
  SEARCH_INVALID: {
    id: 'Itu bukan ID kasus (mis. 3210-2020-…) maupun NIK 16 angka.',
    en: 'That is neither a case id (e.g. 3210-2020-…) nor a 16-digit NIK.',
  },
  SEARCH_NOT_FOUND: { id: 'Tidak ada kasus dengan ID atau NIK itu.', en: 'No case has that id or NIK.' },
  FILTER_INVALID: { id: 'Saringan tidak dikenal; ditampilkan tanpa saringan itu.', en: 'Unknown filter; shown without it.' },
  CASE_NOT_FOUND: { id: 'Tidak ada kasus dengan ID ini.', en: 'There is no case with this id.' },
  CASE_CLOSED: {
    id: 'Kasus ini sudah berakhir; tidak ada yang dilanjutkan.',
    en: 'This case is closed; there is nothing to resume.',
  },
  NOT_FAILED: {
    id: 'Perjalanan kasus ini tidak gagal; tidak ada yang dilanjutkan.',
    en: "This case's journey has not failed; there is nothing to resume.",
  },
  JOURNEY_RUNNING: {
    id: 'Sebuah eksekusi perjalanan kasus ini sedang berjalan; tunggu sampai selesai atau gagal.',
    en: "An execution of this case's journey is running; wait until it ends or fails.",
  },
  REPORT_NOT_READY: {
    id: 'Laporan berkas ini belum ada: pembacaan belum selesai, atau gagal sebelum menulisnya.',
    en: "This file's report is not there yet: the intake has not finished, or failed before writing it.",
  },
  REPORT_TOO_LARGE: {
    id: 'Laporan ini lebih dari 5 MiB; unduh dari bucket (aws s3 cp).',
    en: 'This report is over 5 MiB; download it from the bucket (aws s3 cp).',
  },
  EXECUTION_NOT_FOUND: { id: 'Tidak ada eksekusi dengan nama ini.', en: 'There is no execution with this name.' },
  FORGED: {
    id: 'Permintaan ini tidak datang dari halaman konsol (token atau asal tidak cocok). Tidak ada yang diubah; buka halaman lagi.',
    en: 'This request did not come from a console page (token or origin mismatch). Nothing changed; open the page again.',
  },
} as const satisfies Record<string, Bilingual>;
export type Refusal = keyof typeof REFUSALS;
