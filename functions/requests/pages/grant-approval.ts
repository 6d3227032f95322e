/**
 * The approver's page: enough about the family to recognise them and to judge the
 * verification (name, masked NIK, business, the verification's explanation), the
 * approval level this request is for and what the earlier levels decided (who, when),
 * and a form to approve or reject with a reason code and a reason.
 */

import type { LevelDecision } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import { approvalLevel } from '#domain/program';
import * as z from '#domain/zod';
import { GrantDecision } from '#requests/requests';
import { bi, html, label } from '#web/html';
import { districtName, type FormValues, one, type PageContext } from './context.ts';
import { choices, type FormState, fact, type KindPage, type Option, select, submit, textArea } from './fields.ts';
import { formatDateTime, formatRupiah } from './format.ts';

export const REJECTION_REASONS: Option[] = [
  { value: 'DATA_TIDAK_SESUAI', label: { id: 'Data tidak sesuai', en: 'The data does not match' } },
  { value: 'USAHA_TIDAK_ADA', label: { id: 'Usaha tidak ditemukan saat kunjungan', en: 'No business found at the visit' } },
  {
    value: 'SUDAH_MENERIMA_BANTUAN_LAIN',
    label: { id: 'Sudah menerima bantuan usaha lain', en: 'Already receives other business aid' },
  },
  { value: 'LAINNYA', label: { id: 'Lainnya', en: 'Other' } },
];

const DECISIONS: Option[] = [
  { value: 'approved', label: { id: 'Setujui bantuan', en: 'Approve the grant' } },
  { value: 'rejected', label: { id: 'Tolak bantuan', en: 'Reject the grant' } },
];

const FORM_INVALID: Bilingual = {
  id: 'Keputusan belum terkirim. Perbaiki isian berikut:',
  en: 'The decision was not sent. Correct the following:',
};

function verification(ctx: PageContext) {
  const v = ctx.case.verification;
  if (!v) return html`<span lang="id">Belum diverifikasi</span> <span lang="en" class="en">Not verified yet</span>`;
  const result = v.eligible
    ? html`<span class="ok">${label({ id: 'Memenuhi syarat', en: 'Eligible' })}</span>`
    : html`<span class="warn">${label({ id: 'Tidak memenuhi syarat', en: 'Not eligible' })}</span>`;
  return html`${result}
<ul class="explain">${v.explanation.map((line) => html`<li>${label(line)}</li>`)}</ul>
<span class="hint">${label({ id: `Aturan program versi ${v.ruleVersion}`, en: `Program rules version ${v.ruleVersion}` })}</span>`;
}

/** "Tingkat 1 dari 2: Kepala Dinas Sosial" / "Level 1 of 2: Head of the district social office". */
function levelOf(ctx: PageContext, levelId: string): Bilingual {
  const levels = ctx.program.approvalLevels;
  const position = levels.findIndex((l) => l.id === levelId) + 1;
  const level = levels[position - 1];
  // A level the configuration no longer has (a decision recorded before it changed) is shown by its id.
  if (!level) return { id: `Tingkat ${levelId}`, en: `Level ${levelId}` };
  return {
    id: `Tingkat ${position} dari ${levels.length}: ${level.name.id}`,
    en: `Level ${position} of ${levels.length}: ${level.name.en}`,
  };
}

/** Each level's decision so far: which level, what, who, when (and whether the alternate approver took it). */
function decisions(ctx: PageContext, approvals: LevelDecision[]) {
  if (approvals.length === 0) return false;
  return html`<ul class="explain">${approvals.map((a) => {
    const what =
      a.decision === 'approved'
        ? { id: 'disetujui', en: 'approved' }
        : { id: `ditolak (${a.reasonCode ?? '-'})`, en: `rejected (${a.reasonCode ?? '-'})` };
    const when = formatDateTime(a.at);
    const alternate = a.assignee === 'alternate' ? { id: ' (pengganti)', en: ' (alternate)' } : { id: '', en: '' };
    const level = levelOf(ctx, a.level);
    return html`<li>${label({
      id: `${level.id}: ${what.id} oleh ${a.decidedBy.email}${alternate.id}, ${when.id}`,
      en: `${level.en}: ${what.en} by ${a.decidedBy.email}${alternate.en}, ${when.en}`,
    })}</li>`;
  })}</ul>`;
}

/**
 * What an approval did, as the case records it. At a level before the last: the request
 * goes on to the next level, and nothing is reserved yet. At the last level: the grant
 * was reserved against the district quota and the national ceiling when the approval was
 * applied, or one of them had none left. Only a reservation lets the page promise a
 * disbursement.
 */
function approvedNotice(ctx: PageContext) {
  const next = ctx.request.level ? approvalLevel(ctx.program, ctx.request.level).next : undefined;
  if (next) {
    const { level, position, of } = approvalLevel(ctx.program, ctx.request.level ?? '');
    return html`<div class="notice">${bi({ id: `Disetujui pada tingkat ${position} dari ${of} (${level.name.id}).`, en: `Approved at level ${position} of ${of} (${level.name.en}).` }, 'strong')}
${bi({
  id: `Permintaan diteruskan ke tingkat berikutnya (${next.name.id}). Bantuan baru dicadangkan setelah tingkat terakhir menyetujui.`,
  en: `The request goes on to the next level (${next.name.en}). The grant is reserved only once the last level approves.`,
})}</div>`;
  }
  const quota = ctx.case.grantApproval?.quota;
  if (quota === 'national-ceiling') {
    const year = ctx.case.programYear;
    return html`<div class="notice bad">${bi({ id: 'Persetujuan tercatat, tetapi batas nasional bantuan sudah tercapai.', en: 'The approval is recorded, but the national grant ceiling is reached.' }, 'strong')}
${bi({
  id: `Batas nasional bantuan untuk tahun program ${year} sudah terpakai seluruhnya oleh wilayah lain, sehingga keluarga ini tidak akan menerima bantuan.`,
  en: `The national grant ceiling for program year ${year} is already used up across the districts, so this family will not receive the grant.`,
})}
${bi({ id: 'Kasus ini akan ditutup karena kuota habis.', en: 'The case will be closed because the quota is used up.' })}</div>`;
  }
  if (quota === 'exhausted') {
    const district = districtName(ctx);
    const year = ctx.case.programYear;
    return html`<div class="notice bad">${bi({ id: 'Persetujuan tercatat, tetapi kuota bantuan sudah habis.', en: 'The approval is recorded, but the grant quota is used up.' }, 'strong')}
${bi({
  id: `Kuota bantuan ${district} untuk tahun program ${year} sudah terpakai seluruhnya, sehingga keluarga ini tidak akan menerima bantuan.`,
  en: `The grant quota of ${district} for program year ${year} is already used up, so this family will not receive the grant.`,
})}
${bi({ id: 'Kasus ini akan ditutup karena kuota habis.', en: 'The case will be closed because the quota is used up.' })}</div>`;
  }
  if (quota === 'already-granted') {
    return html`<div class="notice bad">${bi({ id: 'Persetujuan tercatat, tetapi keluarga ini sudah menerima bantuan.', en: 'The approval is recorded, but this family already has a grant.' }, 'strong')}
${bi({
  id: 'Bantuan untuk kartu keluarga ini sudah diberikan (atau sedang diberikan) melalui usulan lain. Satu kartu keluarga hanya menerima bantuan sekali, sehingga usulan ini tidak akan menerima bantuan.',
  en: 'The grant for this family card was already given (or is being given) through another proposal. A family card receives a grant only once, so this proposal will not receive it.',
})}
${bi({ id: 'Kasus ini akan ditutup.', en: 'The case will be closed.' })}</div>`;
  }
  const approved = bi({ id: 'Bantuan disetujui.', en: 'The grant is approved.' }, 'strong');
  // Without a recorded reservation (an approval applied before reservations were made
  // at approval time) the page promises nothing: Disbursement decides.
  if (quota !== 'reserved') return html`<div class="notice">${approved}</div>`;
  const amount = formatRupiah(ctx.program.grant.amountRupiah);
  return html`<div class="notice">${approved}
${bi({ id: `Bantuan ${amount} akan dicairkan untuk keluarga ini.`, en: `The grant of ${amount} will be disbursed to this family.` })}</div>`;
}

export const grantApprovalPage: KindPage = {
  title: { id: 'Persetujuan bantuan modal usaha (BSiMU)', en: 'Business capital grant approval (BSiMU)' },

  formInvalid: FORM_INVALID,

  facts(ctx) {
    const c = ctx.case;
    const b = c.business;
    return html`<dl>
${fact({ id: 'Kepala keluarga', en: 'Head of the family' }, ctx.personal.nama)}
${fact({ id: 'NIK (disamarkan)', en: 'NIK (masked)' }, c.nikMasked)}
${fact({ id: 'Kabupaten/Kota', en: 'District' }, `${districtName(ctx)} (${c.district})`)}
${fact({ id: 'Nomor kasus', en: 'Case number' }, c.caseId)}
${fact({ id: 'Jenis usaha', en: 'Business type' }, b.type)}
${fact({ id: 'Uraian usaha', en: 'Business description' }, b.description)}
${fact({ id: 'Lama usaha', en: 'Business age' }, label({ id: `${b.months} bulan`, en: `${b.months} months` }))}
${fact({ id: 'Omzet per bulan', en: 'Monthly revenue' }, formatRupiah(b.monthlyRevenue))}
${fact({ id: 'Hasil verifikasi', en: 'Verification result' }, verification(ctx))}
${
  c.intakeWarnings.length > 0 &&
  fact(
    { id: 'Catatan saat pengusulan', en: 'Warnings from the proposal' },
    html`<ul class="explain">${c.intakeWarnings.map((w) => html`<li class="warn">${w}</li>`)}</ul>`,
  )
}
${fact({ id: 'Besar bantuan', en: 'Grant amount' }, formatRupiah(ctx.program.grant.amountRupiah))}
${ctx.request.level && fact({ id: 'Tingkat persetujuan', en: 'Approval level' }, label(levelOf(ctx, ctx.request.level)))}
${
  (c.approvals ?? []).length > 0 &&
  fact({ id: 'Keputusan tingkat sebelumnya', en: 'Earlier levels decided' }, html`${decisions(ctx, c.approvals ?? [])}`)
}
${fact({ id: 'Batas waktu keputusan', en: 'Decision deadline' }, label(formatDateTime(ctx.request.deadline)))}
</dl>`;
  },

  form(_ctx, state: FormState) {
    return html`<form method="post" accept-charset="utf-8">
${bi({ id: 'Keputusan Anda', en: 'Your decision' }, 'h2')}
${choices('radio', 'decision', { id: 'Keputusan', en: 'Decision' }, DECISIONS, state, { required: true })}
${select('reasonCode', { id: 'Alasan penolakan', en: 'Reason for rejection' }, REJECTION_REASONS, state, {
  id: 'Wajib jika menolak.',
  en: 'Required when rejecting.',
})}
${textArea('reason', { id: 'Penjelasan', en: 'Explanation' }, state, {
  maxlength: 1000,
  hint: { id: 'Wajib jika menolak. Tulis apa yang Anda temukan.', en: 'Required when rejecting. Write what you found.' },
})}
${submit({ id: 'Kirim keputusan', en: 'Send decision' })}
</form>`;
  },

  toDecision(values: FormValues) {
    const decision = one(values, 'decision');
    if (decision === 'approved') return { decision };
    if (decision === 'rejected') {
      const code = one(values, 'reasonCode');
      return {
        decision,
        // An unknown code is treated as none chosen, so the person is asked to choose one.
        reasonCode: REJECTION_REASONS.some((r) => r.value === code) ? code : undefined,
        reason: one(values, 'reason').trim(),
      };
    }
    return { decision: decision || undefined };
  },

  check() {
    return {};
  },

  recorded(ctx, decision) {
    const d = z.parse(GrantDecision, decision);
    // Who decided what when, at every level so far (this decision included).
    const history = html`${bi({ id: 'Keputusan per tingkat', en: 'Decisions by level' }, 'h2')}${decisions(ctx, ctx.case.approvals ?? [])}`;
    if (d.decision === 'approved') return html`${approvedNotice(ctx)}${history}`;
    const reason = REJECTION_REASONS.find((r) => r.value === d.reasonCode)?.label ?? { id: d.reasonCode, en: d.reasonCode };
    return html`<div class="notice bad">${bi({ id: 'Bantuan ditolak.', en: 'The grant is rejected.' }, 'strong')}
<p>${label(reason)}</p>
<p>${d.reason}</p>
${bi({ id: 'Kasus ditutup dengan alasan ini.', en: 'The case is closed with this reason.' })}</div>${history}`;
  },
};
