/**
 * A case's timeline: every stage it went through, with the decision, who made it and
 * why, in the order it happened, and the journey executions that carried it (a restart or
 * a resume is a new execution; the case is the same). Everything from the case record and
 * the executions' descriptions; the sealed personal data stays sealed.
 */
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import type { Case } from '#domain/case';
import type { ProgramConfig } from '#domain/program';
import { type Html, html } from '#web/html';
import type { Lang } from '#web/lang';
import { dateTime, OUTCOMES, rupiah, t } from './text.ts';
import { type ConsoleContext, stageBadge } from './views.ts';

interface Entry {
  at: string;
  title: Html;
  body: Html;
  tone?: 'bad' | 'wait';
}

const by = (decidedBy: { email: string } | undefined, lang: Lang) =>
  decidedBy ? html`<p class="meta">${t({ id: 'Oleh', en: 'By' }, lang)} <strong>${decidedBy.email}</strong></p>` : '';

function entries(c: Case, program: ProgramConfig | undefined, lang: Lang): Entry[] {
  const list: Entry[] = [];
  list.push({
    at: c.proposal.proposedAt,
    title: html`${t({ id: 'Diusulkan', en: 'Proposed' }, lang)}`,
    body: html`<p class="meta">${t({ id: 'Unggahan', en: 'Upload' }, lang)} <code>${c.proposal.uploadId}</code>, ${t({ id: 'baris', en: 'row' }, lang)} ${c.proposal.row}</p>
<p>${c.business.type} · ${t({ id: 'usaha', en: 'business' }, lang)} ${c.business.months} ${t({ id: 'bulan', en: 'months' }, lang)} · ${rupiah(c.business.monthlyRevenue)}/${t({ id: 'bulan', en: 'month' }, lang)}</p>
${c.intakeWarnings.length > 0 && html`<ul>${c.intakeWarnings.map((w) => html`<li class="warn">${w}</li>`)}</ul>`}`,
  });
  if (c.verification) {
    const v = c.verification;
    list.push({
      at: v.at,
      tone: v.eligible ? undefined : 'bad',
      title: html`${t({ id: 'Verifikasi', en: 'Verification' }, lang)}: ${v.eligible ? t({ id: 'memenuhi syarat', en: 'eligible' }, lang) : t({ id: 'tidak memenuhi syarat', en: 'not eligible' }, lang)}`,
      body: html`<ul class="explain">${v.explanation.map((line) => html`<li>${line[lang]}</li>`)}</ul><p class="meta">${t({ id: 'Aturan', en: 'Rules' }, lang)} ${v.ruleVersion}</p>`,
    });
  }
  for (const a of c.approvals ?? []) {
    const level = program?.approvalLevels.find((l) => l.id === a.level);
    list.push({
      at: a.at,
      tone: a.decision === 'rejected' ? 'bad' : undefined,
      title: html`${t({ id: 'Persetujuan', en: 'Approval' }, lang)} — ${level ? t(level.name, lang) : a.level}: ${a.decision === 'approved' ? t({ id: 'disetujui', en: 'approved' }, lang) : t({ id: 'ditolak', en: 'rejected' }, lang)}`,
      body: html`${by(a.decidedBy, lang)}${a.assignee === 'alternate' && html`<p class="meta">${t({ id: 'Oleh pengganti, setelah permintaan dialihkan', en: 'By the alternate, after the request escalated' }, lang)}</p>`}${a.reasonCode && html`<p><code>${a.reasonCode}</code> ${a.reason ?? ''}</p>`}`,
    });
  }
  const g = c.grantApproval;
  if (g && g.decision === 'approved' && g.quota && g.quota !== 'reserved') {
    list.push({
      at: g.at,
      tone: 'bad',
      title: html`${t({ id: 'Bantuan tidak tersedia', en: 'No grant available' }, lang)}`,
      body: html`<p><code>${g.quota}</code></p>`,
    });
  }
  if (c.disbursement) {
    list.push({
      at: c.disbursement.at,
      title: html`${t({ id: 'Bantuan disalurkan', en: 'Grant disbursed' }, lang)}: ${rupiah(c.disbursement.amountRupiah)}`,
      body: html`<p class="meta">${t({ id: 'Referensi', en: 'Reference' }, lang)} <code>${c.disbursement.reference}</code> · ${t({ id: 'Aturan', en: 'Rules' }, lang)} ${c.disbursement.ruleVersion}</p>`,
    });
  }
  if (c.mentoringStartedAt) {
    list.push({
      at: c.mentoringStartedAt,
      title: html`${t({ id: 'Pendampingan dimulai', en: 'Mentoring started' }, lang)}`,
      body: html``,
    });
  }
  for (const [id, m] of Object.entries(c.milestones)) {
    const index = program?.milestones.findIndex((p) => p.id === id) ?? -1;
    const theme = index >= 0 ? program?.milestones[index]?.theme : undefined;
    const name = theme ? `${index + 1}. ${t(theme, lang)}` : id;
    list.push({
      at: m.at,
      tone: m.status === 'missed' ? 'bad' : undefined,
      title: html`${t({ id: 'Tonggak', en: 'Milestone' }, lang)} ${name}: ${m.status === 'reported' ? t({ id: 'dilaporkan', en: 'reported' }, lang) : t({ id: 'terlewat', en: 'missed' }, lang)}`,
      body: m.report
        ? html`${by(m.decidedBy, lang)}<p>${m.report.businessRunning ? t({ id: 'Usaha berjalan', en: 'Business running' }, lang) : t({ id: 'Usaha tidak berjalan', en: 'Business not running' }, lang)} · ${rupiah(m.report.monthlyRevenue)}/${t({ id: 'bulan', en: 'month' }, lang)}</p><p class="meta">${m.report.practices.join(', ') || '—'}</p>`
        : html``,
    });
  }
  if (c.grade) {
    list.push({
      at: c.grade.at,
      title: html`${t({ id: 'Penilaian', en: 'Grade' }, lang)}: <strong>${c.grade.grade}</strong>`,
      body: html`<p>${c.grade.reason[lang]}</p><p class="meta">${t({ id: 'Aturan', en: 'Rules' }, lang)} ${c.grade.ruleVersion}</p>`,
    });
  }
  if (c.referral) {
    const r = c.referral;
    list.push({
      at: r.at,
      title: html`${t({ id: 'Dirujuk ke', en: 'Referred to' }, lang)} ${r.schemeName}`,
      body: html`<p>${r.reason[lang]}</p><p class="meta">${t({ id: 'Plafon', en: 'Ceiling' }, lang)} ${rupiah(r.ceilingRupiah)}</p>`,
    });
    if (r.outcome) {
      const o = r.outcome;
      list.push({
        at: o.at,
        tone: o.status === 'financed' ? undefined : 'wait',
        title: html`${t({ id: 'Hasil pembiayaan', en: 'Financing outcome' }, lang)}: ${o.status}${o.amountRupiah !== undefined && html` — ${rupiah(o.amountRupiah)}`}`,
        body: html`${by(o.decidedBy, lang)}${o.reason && html`<p>${o.reason}</p>`}`,
      });
    }
  }
  if (c.failure) {
    list.push({
      at: c.failure.at,
      tone: 'bad',
      title: html`${t({ id: 'Perjalanan gagal', en: 'Journey failed' }, lang)}: <code>${c.failure.error}</code>`,
      body: html`<pre>${c.failure.cause}</pre>`,
    });
  }
  for (const r of c.resumes ?? []) {
    list.push({
      at: r.at,
      tone: 'wait',
      title: html`${t({ id: 'Dilanjutkan oleh operator', en: 'Resumed by an operator' }, lang)}`,
      body: html`${by(r.decidedBy, lang)}<p class="meta">${t({ id: 'Setelah', en: 'After' }, lang)} <code>${r.failure.error}</code> · ${t({ id: 'eksekusi', en: 'execution' }, lang)} <a href="/console/executions/journey/${encodeURIComponent(r.execution)}"><code>${r.execution}</code></a></p>`,
    });
  }
  if (c.stage === 'closed' && c.outcome) {
    list.push({
      at: c.closedAt ?? c.updatedAt,
      tone: c.outcome === 'graduated' ? undefined : 'bad',
      title: html`${t({ id: 'Berakhir', en: 'Closed' }, lang)}: ${t(OUTCOMES[c.outcome], lang)}`,
      body: c.outcomeReason ? html`<p>${c.outcomeReason[lang]}</p>` : html``,
    });
  }
  // In time order; facts written in the same instant keep the journey's order.
  return list
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.localeCompare(b.e.at) || a.i - b.i)
    .map(({ e }) => e);
}

export function executionsTable(executions: readonly DescribeExecutionOutput[], ctx: ConsoleContext): Html {
  const lang = ctx.lang;
  if (executions.length === 0)
    return html`<p class="meta">${t({ id: 'Belum ada eksekusi perjalanan.', en: 'No journey execution yet.' }, lang)}</p>`;
  return html`<div class="scroll"><table class="data"><thead><tr><th>${t({ id: 'Eksekusi', en: 'Execution' }, lang)}</th><th>Status</th><th>${t({ id: 'Mulai', en: 'Started' }, lang)}</th><th>${t({ id: 'Berhenti', en: 'Stopped' }, lang)}</th><th>${t({ id: 'Galat', en: 'Error' }, lang)}</th></tr></thead><tbody>${executions.map(
    (e) =>
      html`<tr><td><a href="/console/executions/journey/${encodeURIComponent(e.name ?? '')}"><code>${e.name}</code></a></td><td><span class="badge ${e.status === 'FAILED' ? 'refused' : e.status === 'RUNNING' ? 'running' : 'done'}">${e.status}</span>${(e.redriveCount ?? 0) > 0 && html` <span class="meta">redrive ×${e.redriveCount}</span>`}</td><td>${dateTime(e.startDate, lang)}</td><td>${dateTime(e.stopDate, lang)}</td><td>${e.error && html`<code>${e.error}</code>`}</td></tr>`,
  )}</tbody></table></div>`;
}

export function timeline(c: Case, program: ProgramConfig | undefined, ctx: ConsoleContext): Html {
  const lang = ctx.lang;
  return html`<div class="cards">
<div><span class="meta">${t({ id: 'Tahap', en: 'Stage' }, lang)}</span><span>${stageBadge(c, lang)}</span></div>
<div><span class="meta">${t({ id: 'Wilayah · tahun', en: 'District · year' }, lang)}</span><span class="n">${c.district} · ${c.programYear}</span></div>
<div><span class="meta">NIK</span><code>${c.nikMasked}</code></div>
<div><span class="meta">${t({ id: 'Di tahap ini sejak', en: 'At this stage since' }, lang)}</span><span>${dateTime(c.stageSince ?? c.updatedAt, lang)}</span></div>
</div>
<ol class="timeline">${entries(c, program, lang).map(
    (e) =>
      html`<li${e.tone ? html` class="${e.tone}"` : ''}><h3>${e.title}</h3><p class="meta">${dateTime(e.at, lang)}</p>${e.body}</li>`,
  )}</ol>`;
}
