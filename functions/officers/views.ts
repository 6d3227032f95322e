/**
 * What the officer sees: the upload page, a check's verdicts, an upload with its report
 * and family progress, and the refusals. One language at a time (the switch in the
 * header), Indonesian by default; a finding's message shows in both, the chosen one
 * first, exactly as `prokus validate` prints it (Indonesian, then English).
 */
import type { Outcome, Stage } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import type { JsonRow } from '#intake/proposal-dry-run';
import type { FileProblem } from '#intake/sheet';
import type { UploadProgress } from '#store/cases';
import { type Html, html } from '#web/html';
import type { Lang } from '#web/lang';
import { layout, type PageExtras, type Viewer } from '#web/layout';
import { INTAKE_OVERDUE_MS, MAX_UPLOAD_BYTES, type Upload } from './files.ts';
import { UPLOAD_SCRIPT } from './upload-script.ts';

export type { Lang } from '#web/lang';

export interface PageContext {
  lang: Lang;
  /** The path of this page, for the language switch. */
  path: string;
  viewer?: Viewer;
}

export interface View {
  status: number;
  html: string;
  extras: PageExtras;
}

const t = (text: Bilingual, lang: Lang) => text[lang];
const other = (lang: Lang): Lang => (lang === 'id' ? 'en' : 'id');

function page(ctx: PageContext, status: number, title: Bilingual, body: Html, extras: PageExtras = {}): View {
  const switchLang = other(ctx.lang);
  const full: PageExtras = {
    ...extras,
    // Upload and check ids are looked up with the officer's districts, not capabilities.
    postsForms: true,
    lang: ctx.lang,
    switchTo: {
      href: `${ctx.path}?lang=${switchLang}`,
      lang: switchLang,
      label: switchLang === 'en' ? 'English' : 'Bahasa Indonesia',
    },
  };
  return { status, html: layout(title, body, undefined, ctx.viewer, full), extras: full };
}

/** A message as `prokus validate` gives it: the chosen language first, the other under it. */
function both(text: Bilingual, lang: Lang): Html {
  const second = other(lang);
  return html`<span lang="${lang}">${text[lang]}</span><span lang="${second}" class="en">${text[second]}</span>`;
}

const STAGES: Record<Stage, Bilingual> = {
  verification: { id: 'Verifikasi', en: 'Verification' },
  'grant-approval': { id: 'Persetujuan bantuan', en: 'Grant approval' },
  disbursement: { id: 'Penyaluran bantuan', en: 'Disbursement' },
  mentoring: { id: 'Pendampingan', en: 'Mentoring' },
  'financing-referral': { id: 'Rujukan pembiayaan', en: 'Financing referral' },
  closed: { id: 'Berakhir', en: 'Closed' },
};

const OUTCOMES: Record<Outcome, Bilingual> = {
  graduated: { id: 'lulus', en: 'graduated' },
  ineligible: { id: 'tidak memenuhi syarat', en: 'ineligible' },
  rejected: { id: 'ditolak', en: 'rejected' },
  'approval-expired': { id: 'persetujuan kedaluwarsa', en: 'approval expired' },
  'quota-exhausted': { id: 'kuota habis', en: 'quota used up' },
  'mentoring-incomplete': { id: 'pendampingan tidak lengkap', en: 'mentoring incomplete' },
  'already-granted': { id: 'sudah pernah menerima', en: 'already granted' },
};

const STAGE_ORDER = Object.keys(STAGES) as Stage[];

const dateTime = (d: Date, lang: Lang) =>
  `${d.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'Asia/Jakarta', dateStyle: 'medium', timeStyle: 'short' })} WIB`;

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

export type DistrictNames = { code: string; name: string }[];

function statusBadge(upload: Upload, lang: Lang, now: Date): Html {
  const s = upload.status;
  if (s.kind === 'done') {
    return html`<span class="badge done">${t({ id: 'Selesai dibaca', en: 'Read' }, lang)}</span> ${t(
      {
        id: `${s.accepted + s.warning} diterima, ${s.rejected} ditolak`,
        en: `${s.accepted + s.warning} accepted, ${s.rejected} rejected`,
      },
      lang,
    )}`;
  }
  if (s.kind === 'refused') {
    return html`<span class="badge refused">${t({ id: 'Berkas ditolak', en: 'File refused' }, lang)}</span> <code>${s.code}</code>`;
  }
  if (now.getTime() - upload.uploadedAt.getTime() > INTAKE_OVERDUE_MS) {
    return html`<span class="badge overdue">${t({ id: 'Belum selesai: hubungi operator', en: 'Not finished: contact the operator' }, lang)}</span>`;
  }
  return html`<span class="badge running">${t({ id: 'Sedang diproses', en: 'Being processed' }, lang)}</span>`;
}

function progressTable(progress: UploadProgress | undefined, lang: Lang): Html {
  if (!progress) {
    return html`<p class="meta">${t({ id: 'Perkembangan keluarga tidak tersedia untuk folder data ini (dibuat dengan versi sebelumnya).', en: 'Family progress is not available for this data folder (made by an earlier version).' }, lang)}</p>`;
  }
  if (progress.families === 0) {
    return html`<p class="meta">${t({ id: 'Belum ada keluarga yang terdaftar dari berkas ini.', en: 'No family registered from this file yet.' }, lang)}</p>`;
  }
  const rows = STAGE_ORDER.filter((s) => (progress.byStage[s] ?? 0) > 0).map((s) => {
    const outcomes =
      s === 'closed'
        ? Object.entries(progress.byOutcome)
            .map(([o, n]) => `${OUTCOMES[o as Outcome][lang]}: ${n}`)
            .join(', ')
        : '';
    return html`<tr><td>${t(STAGES[s], lang)}${outcomes && html`<br><span class="meta">${outcomes}</span>`}</td><td class="n">${progress.byStage[s] ?? 0}</td></tr>`;
  });
  return html`<table class="stages"><thead><tr><th>${t({ id: 'Tahap', en: 'Stage' }, lang)}</th><th class="n">${t(
    { id: 'Keluarga', en: 'Families' },
    lang,
  )}</th></tr></thead><tbody>${rows}</tbody><tfoot><tr><th>${t({ id: 'Jumlah', en: 'Total' }, lang)}</th><td class="n">${progress.families}</td></tr></tfoot></table>`;
}

export function uploadPage(
  ctx: PageContext & { csrf: string },
  districts: DistrictNames,
  years: readonly number[],
  uploads: { upload: Upload; progress: UploadProgress | undefined }[],
  bucketOrigin: string,
  now = new Date(),
): View {
  const { lang } = ctx;
  const districtField =
    districts.length === 1
      ? html`<input type="hidden" name="district" value="${districts[0]?.code}">`
      : html`<div class="field"><label for="district">${t({ id: 'Kabupaten/kota', en: 'District' }, lang)}</label><select id="district" name="district">${districts.map(
          (d) => html`<option value="${d.code}">${d.code} ${d.name}</option>`,
        )}</select></div>`;
  const latest = years.at(-1);
  const yearField = html`<div class="field"><label for="programYear">${t({ id: 'Tahun program', en: 'Program year' }, lang)}</label><select id="programYear" name="programYear">${[
    ...years,
  ]
    .reverse()
    .map((y) => html`<option value="${y}"${y === latest && html` selected`}>${y}</option>`)}</select></div>`;
  const msg = (id: string, en: string) => t({ id, en }, lang);
  const body = html`<p>${t({ id: 'Wilayah Anda', en: 'Your district(s)' }, lang)}: <strong>${districts.map((d) => `${d.code} ${d.name}`).join(', ')}</strong></p>
<h2>${t({ id: '1. Unduh templat', en: '1. Download the template' }, lang)}</h2>
<p>${t({ id: 'Isi satu baris per keluarga. Kolom NIK, No. KK dan No. HP sudah berformat Teks.', en: 'One row per family. The NIK, KK and phone columns are already formatted as Text.' }, lang)}</p>
<a class="button" href="/upload/template" download>${t({ id: 'Unduh templat (XLSX)', en: 'Download the template (XLSX)' }, lang)}</a>
<p><a href="/upload/template?format=csv" download>${t({ id: 'atau versi CSV', en: 'or the CSV version' }, lang)}</a></p>
<h2>${t({ id: '2. Unggah dan periksa berkas', en: '2. Upload and check the file' }, lang)}</h2>
<p>${t(
    {
      id: `CSV atau XLSX, paling besar ${mib(MAX_UPLOAD_BYTES)}. Berkas diperiksa dulu; Anda melihat hasil tiap baris sebelum mengirimnya.`,
      en: `CSV or XLSX, up to ${mib(MAX_UPLOAD_BYTES)}. The file is checked first; you see every row's verdict before you submit it.`,
    },
    lang,
  )}</p>
<p id="nojs" class="notice bad">${t({ id: 'Unggahan memerlukan JavaScript. Aktifkan JavaScript, atau gunakan perintah prokus upload.', en: 'Uploading needs JavaScript. Turn JavaScript on, or use the prokus upload command.' }, lang)}</p>
<form id="upload-form" method="post" action="/uploads" hidden data-max-bytes="${MAX_UPLOAD_BYTES}"
 data-msg-pick="${msg('Pilih berkas dulu.', 'Choose a file first.')}"
 data-msg-empty="${msg('Berkas kosong.', 'The file is empty.')}"
 data-msg-too-large="${msg(`Berkas lebih besar dari ${mib(MAX_UPLOAD_BYTES)}. Bagi menjadi beberapa berkas.`, `The file is larger than ${mib(MAX_UPLOAD_BYTES)}. Split it into several files.`)}"
 data-msg-preparing="${msg('Menyiapkan unggahan…', 'Preparing the upload…')}"
 data-msg-sending="${msg('Mengirim…', 'Sending…')}"
 data-msg-checking="${msg('Terkirim. Memeriksa berkas…', 'Sent. Checking the file…')}"
 data-msg-refused="${msg('Penyimpanan menolak berkas. Muat ulang halaman dan coba lagi.', 'The storage refused the file. Reload the page and try again.')}"
 data-msg-failed="${msg('Unggahan tidak dapat dimulai. Muat ulang halaman dan coba lagi.', 'The upload could not start. Reload the page and try again.')}"
 data-msg-offline="${msg('Koneksi terputus. Periksa jaringan, lalu coba lagi.', 'The connection dropped. Check the network, then try again.')}">
<input type="hidden" name="csrf" value="${ctx.csrf}">
${districtField}
${yearField}
<div class="drop" id="drop"><label for="file">${t({ id: 'Pilih berkas atau seret ke sini', en: 'Choose a file or drop it here' }, lang)}</label>
<input type="file" id="file" name="file" accept=".csv,.xlsx,.txt,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet">
<p id="chosen" class="meta" aria-live="polite"></p></div>
<progress id="upload-progress" hidden value="0" max="1"></progress>
<p id="upload-status" role="status" aria-live="polite" hidden></p>
<button type="submit">${t({ id: 'Unggah dan periksa', en: 'Upload and check' }, lang)}</button>
</form>
<h2>${t({ id: 'Unggahan sebelumnya', en: 'Past uploads' }, lang)}</h2>
${
  uploads.length === 0
    ? html`<p class="meta">${t({ id: 'Belum ada unggahan.', en: 'No uploads yet.' }, lang)}</p>`
    : html`<ul class="uploads">${uploads.map(
        ({ upload, progress }) => html`<li><a class="file" href="/uploads/${upload.uploadId}">${upload.fileName}</a>
<p class="meta">${upload.district} · ${dateTime(upload.uploadedAt, lang)}</p>
<p>${statusBadge(upload, lang, now)}</p>
${
  progress &&
  progress.families > 0 &&
  html`<p class="meta">${STAGE_ORDER.filter((s) => (progress.byStage[s] ?? 0) > 0)
    .map((s) => `${t(STAGES[s], lang)}: ${progress.byStage[s]}`)
    .join(' · ')}</p>`
}
${upload.status.kind !== 'running' && html`<p><a href="/uploads/${upload.uploadId}/report" download>${t({ id: 'Unduh laporan hasil (CSV)', en: 'Download the result report (CSV)' }, lang)}</a></p>`}</li>`,
      )}</ul>`
}`;
  return page(ctx, 200, { id: 'Unggah usulan', en: 'Upload proposals' }, body, {
    script: UPLOAD_SCRIPT,
    connectTo: bucketOrigin,
  });
}

/** The most rows the check page lists; the rest are counted, and the intake's report lists them all. */
export const ROWS_SHOWN = 500;

export interface CheckView {
  checkId: string;
  fileName: string;
  district: string;
  programYear: number;
  csrf: string;
}

export function checkPage(
  ctx: PageContext,
  check: CheckView,
  result:
    | {
        ok: true;
        summary: { accepted: number; warning: number; rejected: number };
        rows: JsonRow[];
        hiddenRows: number;
        fileWarnings: FileProblem[];
        notChecked: FileProblem[];
      }
    | { ok: false; problem: FileProblem },
): View {
  const { lang } = ctx;
  const head = html`<dl><div><dt>${t({ id: 'Berkas', en: 'File' }, lang)}</dt><dd>${check.fileName}</dd></div><div><dt>${t({ id: 'Kabupaten/kota', en: 'District' }, lang)}</dt><dd>${check.district}</dd></div><div><dt>${t({ id: 'Tahun program', en: 'Program year' }, lang)}</dt><dd>${check.programYear}</dd></div></dl>`;
  const discard = html`<form class="action" method="post" action="/uploads/${check.checkId}/submit"><input type="hidden" name="csrf" value="${check.csrf}"><input type="hidden" name="action" value="discard"><button type="submit" class="secondary">${t(
    { id: 'Buang dan perbaiki berkas', en: 'Discard and fix the file' },
    lang,
  )}</button></form>`;
  if (!result.ok) {
    return page(
      ctx,
      200,
      { id: 'Berkas tidak dapat diperiksa', en: 'The file cannot be checked' },
      html`${head}<div class="notice bad"><p><code>${result.problem.code}</code></p><p>${both(result.problem.message, lang)}</p></div>
<p>${t({ id: 'Perbaiki berkas, lalu unggah lagi. Berkas ini tidak dapat dikirim.', en: 'Fix the file, then upload it again. This file cannot be submitted.' }, lang)}</p>${discard}`,
    );
  }
  const s = result.summary;
  const verdicts = result.rows.map(
    (r) =>
      html`<li class="${r.status}"><strong>${t({ id: `Baris ${r.row}`, en: `Row ${r.row}` }, lang)}</strong> · ${
        r.status === 'rejected'
          ? t({ id: 'ditolak', en: 'rejected' }, lang)
          : t({ id: 'diterima, dengan catatan', en: 'accepted, with a note' }, lang)
      }${r.errors.map(
        (f) => html`<div class="finding"><code>${f.code}</code> <code>${f.field}</code><br>${both(f.message, lang)}</div>`,
      )}</li>`,
  );
  const body = html`${head}
<div class="notice${s.rejected > 0 ? ' bad' : ''}"><p><strong>${t(
    {
      id: `${s.accepted} diterima, ${s.warning} diterima dengan catatan, ${s.rejected} ditolak`,
      en: `${s.accepted} accepted, ${s.warning} accepted with a note, ${s.rejected} rejected`,
    },
    lang,
  )}</strong></p></div>
${result.fileWarnings.map((w) => html`<div class="notice"><p><code>${w.code}</code></p><p>${both(w.message, lang)}</p></div>`)}
${result.notChecked.map((w) => html`<p class="meta">${both(w.message, lang)}</p>`)}
${
  result.rows.length > 0 &&
  html`<h2>${t({ id: 'Baris yang perlu diperhatikan', en: 'Rows to look at' }, lang)}</h2>
<p class="meta">${t({ id: 'Nomor baris seperti di lembar kerja Anda (baris 1 = judul kolom).', en: 'Row numbers as in your spreadsheet (row 1 = the header).' }, lang)}</p>
<ol class="verdicts">${verdicts}</ol>`
}
${result.hiddenRows > 0 && html`<p>${t({ id: `… dan ${result.hiddenRows} baris lagi. Laporan hasil setelah pengiriman memuat semuanya.`, en: `… and ${result.hiddenRows} more rows. The result report after submitting lists them all.` }, lang)}</p>`}
<h2>${t({ id: 'Kirim atau perbaiki', en: 'Submit or fix' }, lang)}</h2>
<p>${t(
    {
      id: 'Kirim: keluarga yang diterima didaftarkan, yang ditolak tercantum di laporan. Atau buang berkas ini, perbaiki, lalu unggah lagi.',
      en: 'Submit: the accepted families are registered, the rejected rows are listed in the report. Or discard this file, fix it and upload it again.',
    },
    lang,
  )}</p>
<form class="action" method="post" action="/uploads/${check.checkId}/submit"><input type="hidden" name="csrf" value="${check.csrf}"><input type="hidden" name="action" value="submit"><button type="submit">${t(
    { id: `Kirim (${s.accepted + s.warning} keluarga)`, en: `Submit (${s.accepted + s.warning} families)` },
    lang,
  )}</button></form>
${discard}`;
  return page(ctx, 200, { id: 'Hasil pemeriksaan berkas', en: 'The check of your file' }, body);
}

export function uploadDetailPage(ctx: PageContext, upload: Upload, progress: UploadProgress | undefined, now = new Date()): View {
  const { lang } = ctx;
  const body = html`<dl><div><dt>${t({ id: 'Berkas', en: 'File' }, lang)}</dt><dd>${upload.fileName}</dd></div>
<div><dt>${t({ id: 'Kabupaten/kota', en: 'District' }, lang)}</dt><dd>${upload.district}</dd></div>
<div><dt>${t({ id: 'Diunggah', en: 'Uploaded' }, lang)}</dt><dd>${dateTime(upload.uploadedAt, lang)}</dd></div>
<div><dt>${t({ id: 'Status', en: 'Status' }, lang)}</dt><dd>${statusBadge(upload, lang, now)}</dd></div></dl>
${
  upload.status.kind === 'running'
    ? html`<p>${t({ id: 'Berkas sedang dibaca. Muat ulang halaman ini sebentar lagi; laporan hasil juga dikirim ke email Anda.', en: 'The file is being read. Reload this page in a moment; the result report is also emailed to you.' }, lang)}</p>`
    : html`<a class="button" href="/uploads/${upload.uploadId}/report" download>${t({ id: 'Unduh laporan hasil (CSV)', en: 'Download the result report (CSV)' }, lang)}</a>`
}
<h2>${t({ id: 'Perkembangan keluarga', en: 'Families’ progress' }, lang)}</h2>
${progressTable(progress, lang)}
<p><a href="/upload">${t({ id: 'Kembali ke halaman unggah', en: 'Back to the upload page' }, lang)}</a></p>`;
  return page(ctx, 200, { id: 'Unggahan', en: 'Upload' }, body);
}

const backToUpload = (lang: Lang) =>
  html`<a class="button" href="/upload">${t({ id: 'Ke halaman unggah', en: 'To the upload page' }, lang)}</a>`;

/** One page for "no such thing" and "not your district's": an id must not tell which. */
export function notFoundPage(ctx: PageContext): View {
  return page(
    ctx,
    404,
    { id: 'Tidak ditemukan', en: 'Not found' },
    html`<p>${t({ id: 'Tidak ada unggahan atau pemeriksaan dengan alamat ini untuk wilayah Anda.', en: 'There is no upload or check at this address for your district(s).' }, ctx.lang)}</p>${backToUpload(ctx.lang)}`,
  );
}

export function signInNeededPage(ctx: PageContext, returnTo: string): View {
  return page(
    ctx,
    401,
    { id: 'Silakan masuk', en: 'Please sign in' },
    html`<p>${t({ id: 'Halaman ini untuk petugas kabupaten/kota yang sudah masuk.', en: 'This page is for signed-in district officers.' }, ctx.lang)}</p>
<a class="button" href="/signin?returnTo=${encodeURIComponent(returnTo)}">${t({ id: 'Masuk', en: 'Sign in' }, ctx.lang)}</a>`,
  );
}

export function notAnOfficerPage(ctx: PageContext): View {
  return page(
    ctx,
    403,
    { id: 'Bukan untuk akun ini', en: 'Not for this account' },
    html`<p>${t(
      {
        id: 'Akun Anda tidak memiliki peran petugas usulan untuk satu kabupaten/kota pun. Minta admin menambahkan peran dan wilayah Anda.',
        en: 'Your account holds no officer role for any district. Ask an admin to add your role and district.',
      },
      ctx.lang,
    )}</p>`,
  );
}

export function forgedPage(ctx: PageContext): View {
  return page(
    ctx,
    403,
    { id: 'Permintaan ditolak', en: 'Request refused' },
    html`<p>${t({ id: 'Formulir ini tidak dikirim dari halaman unggah Anda (token formulir tidak cocok). Tidak ada yang diubah.', en: 'This form was not sent from your upload page (the form token does not match). Nothing was changed.' }, ctx.lang)}</p>${backToUpload(ctx.lang)}`,
  );
}

export function checkGonePage(ctx: PageContext, why: 'missing' | 'discarded'): View {
  const text =
    why === 'discarded'
      ? {
          id: 'Berkas ini sudah dibuang. Perbaiki berkas Anda, lalu unggah lagi.',
          en: 'This file was discarded. Fix your file, then upload it again.',
        }
      : {
          id: 'Berkas untuk pemeriksaan ini tidak ada (unggahan tidak selesai, atau sudah lewat waktu). Unggah lagi.',
          en: 'The file of this check is not there (the upload did not finish, or it expired). Upload it again.',
        };
  return page(
    ctx,
    410,
    { id: 'Berkas tidak ada lagi', en: 'The file is gone' },
    html`<p>${t(text, ctx.lang)}</p>${backToUpload(ctx.lang)}`,
  );
}

export function submitRunningPage(ctx: PageContext, checkId: string): View {
  return page(
    ctx,
    409,
    { id: 'Sedang dikirim', en: 'Being submitted' },
    html`<p>${t({ id: 'Berkas ini sedang dikirim dari permintaan lain. Tunggu sebentar, lalu buka lagi.', en: 'This file is being submitted by another request. Wait a moment, then open it again.' }, ctx.lang)}</p>
<a class="button" href="/uploads/${checkId}/check">${t({ id: 'Buka lagi', en: 'Open again' }, ctx.lang)}</a>`,
  );
}

export function reportNotReadyPage(ctx: PageContext, upload: Upload, tooLarge: boolean): View {
  const text = tooLarge
    ? {
        id: 'Laporan ini terlalu besar untuk diunduh dari halaman; laporan yang sama terlampir di email ringkasan unggahan.',
        en: 'This report is too large to download from the page; the same report is attached to the upload’s summary email.',
      }
    : {
        id: 'Laporan hasil belum ada: berkas masih dibaca.',
        en: 'The result report is not there yet: the file is still being read.',
      };
  return page(
    ctx,
    tooLarge ? 413 : 404,
    { id: 'Laporan hasil', en: 'Result report' },
    html`<p>${t(text, ctx.lang)}</p><a class="button" href="/uploads/${upload.uploadId}">${t({ id: 'Kembali ke unggahan', en: 'Back to the upload' }, ctx.lang)}</a>`,
  );
}
