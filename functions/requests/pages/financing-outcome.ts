/**
 * The lender's page: the referral (scheme, ceiling, why this scheme), the family's
 * grade and its reason, and a form to record whether the family was financed.
 */

import type { Bilingual } from '#domain/errors';
import * as z from '#domain/zod';
import { LenderDecision } from '#requests/requests';
import { bi, html, label } from '#web/html';
import { districtName, type FormValues, one, type PageContext } from './context.ts';
import { choices, type FormState, fact, type KindPage, type Option, submit, textArea, textInput } from './fields.ts';
import { formatDateTime, formatRupiah, parseRupiah } from './format.ts';

const GRADES: Record<string, Bilingual> = {
  pemula: { id: 'Pemula', en: 'Beginner' },
  berkembang: { id: 'Berkembang', en: 'Developing' },
  maju: { id: 'Maju', en: 'Advanced' },
};

const OUTCOMES: Option[] = [
  { value: 'financed', label: { id: 'Dibiayai', en: 'Financed' } },
  { value: 'declined', label: { id: 'Tidak dibiayai', en: 'Declined' } },
];

const FORM_INVALID: Bilingual = {
  id: 'Hasil belum terkirim. Perbaiki isian berikut:',
  en: 'The outcome was not sent. Correct the following:',
};

function referral(ctx: PageContext) {
  const r = ctx.case.referral;
  if (!r) throw new Error(`case ${ctx.case.caseId} has a financing request but no referral`);
  return r;
}

/** The revenue of the latest milestone reported, in plan order: what the lender will ask first. */
function latestRevenue(ctx: PageContext): number | undefined {
  let latest: number | undefined;
  for (const m of ctx.program.milestones) {
    const report = ctx.case.milestones[m.id]?.report;
    if (report) latest = report.monthlyRevenue;
  }
  return latest;
}

export const financingOutcomePage: KindPage = {
  title: { id: 'Hasil rujukan pembiayaan', en: 'Financing referral outcome' },

  formInvalid: FORM_INVALID,

  facts(ctx) {
    const c = ctx.case;
    const r = referral(ctx);
    const revenue = latestRevenue(ctx);
    // The lender sees the family head's name: they meet the family to assess the loan and
    // must know the referral is about the person in front of them. The NIK stays masked;
    // the lender checks the KTP card itself at that meeting.
    return html`<dl>
${fact({ id: 'Skema', en: 'Scheme' }, r.schemeName)}
${fact({ id: 'Plafon', en: 'Ceiling' }, formatRupiah(r.ceilingRupiah))}
${fact({ id: 'Alasan rujukan', en: 'Why this scheme' }, label(r.reason))}
${c.grade && fact({ id: 'Tingkat usaha', en: 'Grade' }, html`${label(GRADES[c.grade.grade] ?? { id: c.grade.grade, en: c.grade.grade })}<ul class="explain"><li>${label(c.grade.reason)}</li></ul>`)}
${fact({ id: 'Kepala keluarga', en: 'Head of the family' }, ctx.personal.nama)}
${fact({ id: 'NIK (disamarkan)', en: 'NIK (masked)' }, c.nikMasked)}
${fact({ id: 'Kabupaten/Kota', en: 'District' }, districtName(ctx))}
${fact({ id: 'Usaha', en: 'Business' }, `${c.business.type} — ${c.business.description}`)}
${revenue !== undefined && fact({ id: 'Omzet per bulan terakhir dilaporkan', en: 'Latest reported monthly revenue' }, formatRupiah(revenue))}
${fact({ id: 'Batas waktu', en: 'Deadline' }, label(formatDateTime(ctx.request.deadline)))}
</dl>`;
  },

  form(ctx, state: FormState) {
    const ceiling = formatRupiah(referral(ctx).ceilingRupiah);
    return html`<form method="post" accept-charset="utf-8">
${bi({ id: 'Hasil pembiayaan', en: 'Financing outcome' }, 'h2')}
${choices('radio', 'status', { id: 'Hasil', en: 'Outcome' }, OUTCOMES, state, { required: true })}
${textInput('amountRupiah', { id: 'Jumlah pembiayaan (rupiah)', en: 'Amount financed (rupiah)' }, state, {
  inputmode: 'numeric',
  maxlength: 40,
  hint: { id: `Wajib jika dibiayai; paling banyak ${ceiling}.`, en: `Required when financed; at most ${ceiling}.` },
})}
${textArea('reason', { id: 'Alasan', en: 'Reason' }, state, {
  maxlength: 1000,
  hint: { id: 'Wajib jika tidak dibiayai.', en: 'Required when declined.' },
})}
${submit({ id: 'Kirim hasil', en: 'Send outcome' })}
</form>`;
  },

  toDecision(values: FormValues) {
    const status = one(values, 'status');
    const amount = one(values, 'amountRupiah');
    const reason = one(values, 'reason').trim() || undefined;
    if (status === 'financed') return { status, amountRupiah: parseRupiah(amount) ?? (amount.trim() || undefined), reason };
    // An amount typed before switching to "declined" is not a financed amount.
    if (status === 'declined') return { status, reason };
    return { status: status || undefined };
  },

  check(ctx, candidate): Record<string, Bilingual> {
    const parsed = LenderDecision.safeParse(candidate);
    if (!parsed.success) return {};
    const d = parsed.data;
    const ceiling = referral(ctx).ceilingRupiah;
    if (d.status === 'declined' && !d.reason) {
      return { reason: { id: 'Tuliskan alasan tidak dibiayai.', en: 'Write why the family was declined.' } };
    }
    if (d.status === 'financed' && !d.amountRupiah) {
      return {
        amountRupiah: {
          id: 'Tuliskan jumlah pembiayaan, misalnya 5.000.000.',
          en: 'Write the amount financed, for example 5,000,000.',
        },
      };
    }
    if (d.status === 'financed' && d.amountRupiah && d.amountRupiah > ceiling) {
      return {
        amountRupiah: {
          id: `Jumlah melebihi plafon skema (${formatRupiah(ceiling)}).`,
          en: `The amount is above the scheme's ceiling (${formatRupiah(ceiling)}).`,
        },
      };
    }
    return {};
  },

  recorded(_ctx, decision) {
    const d = z.parse(LenderDecision, decision);
    if (d.status === 'financed') {
      return html`<div class="notice">${bi({ id: 'Keluarga ini dibiayai.', en: 'The family is financed.' }, 'strong')}
<dl>${fact({ id: 'Jumlah', en: 'Amount' }, formatRupiah(d.amountRupiah ?? 0))}</dl></div>`;
    }
    return html`<div class="notice bad">${bi({ id: 'Keluarga ini tidak dibiayai.', en: 'The family is declined.' }, 'strong')}
<p>${d.reason ?? ''}</p></div>`;
  },
};
