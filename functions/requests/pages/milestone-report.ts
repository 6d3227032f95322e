/**
 * The mentor's report for one milestone of the mentoring plan: is the business still
 * running, its monthly revenue, which practices the family has adopted, and notes.
 * Grading later reads these reports, so the practices are the program's own list.
 */

import { MilestoneReport } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import type { Practice } from '#domain/program';
import * as z from '#domain/zod';
import { bi, html, label } from '#web/html';
import { districtName, type FormValues, many, one, type PageContext } from './context.ts';
import { choices, type FormState, fact, type KindPage, type Option, submit, textArea, textInput } from './fields.ts';
import { formatDateTime, formatRupiah, parseRupiah } from './format.ts';

/** Every `Practice` of the program, labelled; the Record type makes a new practice a compile error here. */
export const PRACTICE_LABELS: Record<Practice, Bilingual> = {
  separatesBusinessMoney: {
    id: 'Memisahkan uang rumah tangga dan uang usaha',
    en: 'Keeps household and business money apart',
  },
  packagingAndBranding: { id: 'Kemasan dan merek', en: 'Packaging and branding' },
  sellsOnline: { id: 'Pemasaran daring (online)', en: 'Online marketing' },
  hasBusinessPermit: { id: 'Memiliki izin usaha (NIB)', en: 'Has a business permit (NIB)' },
  keepsBookkeeping: { id: 'Pembukuan usaha', en: 'Keeps business books' },
};

const PRACTICES: Option[] = Object.entries(PRACTICE_LABELS).map(([value, l]) => ({ value, label: l }));

const RUNNING: Option[] = [
  { value: 'yes', label: { id: 'Ya, masih berjalan', en: 'Yes, still running' } },
  { value: 'no', label: { id: 'Tidak, sudah berhenti', en: 'No, it has stopped' } },
];

const FORM_INVALID: Bilingual = {
  id: 'Laporan belum terkirim. Perbaiki isian berikut:',
  en: 'The report was not sent. Correct the following:',
};

function milestone(ctx: PageContext) {
  const all = ctx.program.milestones;
  const index = all.findIndex((m) => m.id === ctx.request.milestoneId);
  const m = all[index];
  if (!m) throw new Error(`milestone ${ctx.request.milestoneId} is not in program ${ctx.program.version}`);
  return { theme: m.theme, number: index + 1, of: all.length };
}

export const milestoneReportPage: KindPage = {
  title: { id: 'Laporan pendampingan usaha', en: 'Business mentoring report' },

  formInvalid: FORM_INVALID,

  facts(ctx) {
    const c = ctx.case;
    const m = milestone(ctx);
    return html`<dl>
${fact({ id: 'Tahap', en: 'Milestone' }, label({ id: `${m.number} dari ${m.of}`, en: `${m.number} of ${m.of}` }))}
${fact({ id: 'Tema', en: 'Theme' }, label(m.theme))}
${fact({ id: 'Kepala keluarga', en: 'Head of the family' }, ctx.personal.nama)}
${fact({ id: 'Kabupaten/Kota', en: 'District' }, districtName(ctx))}
${fact({ id: 'Usaha', en: 'Business' }, `${c.business.type} — ${c.business.description}`)}
${fact({ id: 'Omzet per bulan saat diusulkan', en: 'Monthly revenue when proposed' }, formatRupiah(c.business.monthlyRevenue))}
${fact({ id: 'Batas waktu laporan', en: 'Report deadline' }, label(formatDateTime(ctx.request.deadline)))}
</dl>`;
  },

  form(_ctx, state: FormState) {
    return html`<form method="post" accept-charset="utf-8">
${bi({ id: 'Laporan Anda', en: 'Your report' }, 'h2')}
${choices(
  'radio',
  'businessRunning',
  { id: 'Apakah usaha masih berjalan?', en: 'Is the business still running?' },
  RUNNING,
  state,
  {
    required: true,
  },
)}
${textInput('monthlyRevenue', { id: 'Omzet per bulan (rupiah)', en: 'Monthly revenue (rupiah)' }, state, {
  inputmode: 'numeric',
  maxlength: 40,
  hint: { id: 'Contoh: 1.500.000 atau 1,5 juta. Tulis 0 jika tidak ada.', en: 'For example 1,500,000. Write 0 if none.' },
})}
${choices('checkbox', 'practices', { id: 'Praktik yang sudah dijalankan', en: 'Practices adopted' }, PRACTICES, state, {
  hint: { id: 'Centang semua yang sesuai.', en: 'Tick all that apply.' },
})}
${textArea('notes', { id: 'Catatan', en: 'Notes' }, state, {
  maxlength: 2000,
  hint: { id: 'Tidak wajib.', en: 'Optional.' },
})}
${submit({ id: 'Kirim laporan', en: 'Send report' })}
</form>`;
  },

  toDecision(values: FormValues) {
    const running = one(values, 'businessRunning');
    const revenue = one(values, 'monthlyRevenue');
    return {
      businessRunning: running === 'yes' ? true : running === 'no' ? false : undefined,
      // What is not an amount stays as typed, so validation names the field.
      monthlyRevenue: parseRupiah(revenue) ?? (revenue.trim() || undefined),
      practices: [...new Set(many(values, 'practices'))],
      notes: one(values, 'notes').trim(),
    };
  },

  check() {
    return {};
  },

  recorded(ctx, decision) {
    const r = z.parse(MilestoneReport, decision);
    const m = milestone(ctx);
    return html`<div class="notice">${bi({ id: `Laporan tahap ${m.number} dari ${m.of} tercatat.`, en: `The report for milestone ${m.number} of ${m.of} is recorded.` }, 'strong')}
<dl>
${fact({ id: 'Usaha masih berjalan', en: 'Business still running' }, label(r.businessRunning ? { id: 'Ya', en: 'Yes' } : { id: 'Tidak', en: 'No' }))}
${fact({ id: 'Omzet per bulan', en: 'Monthly revenue' }, formatRupiah(r.monthlyRevenue))}
${fact(
  { id: 'Praktik', en: 'Practices' },
  r.practices.length
    ? html`<ul class="explain">${r.practices.map((p) => html`<li>${label(PRACTICE_LABELS[p])}</li>`)}</ul>`
    : label({ id: 'Belum ada', en: 'None yet' }),
)}
</dl></div>`;
  },
};
