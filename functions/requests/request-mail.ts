/**
 * The emails that carry request links. They hold no personal data (an inbox is not a
 * safe place for NIK, KK or names): the case id, the district, the business type, the
 * deadline and the link. The page behind the link shows the rest to its one recipient.
 */
import type { Case } from '#domain/case';
import { approvalLevel, type ProgramConfig } from '#domain/program';
import type { Mail } from '#lib/mail';
import type { Request } from './requests.ts';

const SUBJECTS: Record<Request['kind'], { id: string; en: string }> = {
  'grant-approval': { id: 'Persetujuan bantuan BSiMU diperlukan', en: 'BSiMU grant approval needed' },
  'milestone-report': { id: 'Laporan pendampingan usaha', en: 'Mentoring milestone report' },
  'financing-outcome': { id: 'Hasil rujukan pembiayaan', en: 'Financing referral outcome' },
};

function formatDeadline(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

export function requestMail(args: { request: Request; c: Case; config: ProgramConfig; link: string; reminder: boolean }): Mail {
  const { request, c, config, link, reminder } = args;
  const subject = SUBJECTS[request.kind];
  const district = config.districts[c.district]?.name ?? c.district;
  const milestone = request.milestoneId ? config.milestones.find((m) => m.id === request.milestoneId) : undefined;
  const prefix = reminder ? 'Pengingat / Reminder: ' : '';
  const detailId: string[] = [`Kasus: ${c.caseId}`, `Wilayah: ${district}`, `Jenis usaha: ${c.business.type}`];
  const detailEn: string[] = [`Case: ${c.caseId}`, `District: ${district}`, `Business type: ${c.business.type}`];
  if (milestone) {
    detailId.push(`Tahap pendampingan: ${milestone.theme.id}`);
    detailEn.push(`Mentoring milestone: ${milestone.theme.en}`);
  }
  if (request.kind === 'grant-approval' && request.level) {
    const { level, position, of } = approvalLevel(config, request.level);
    detailId.push(`Tingkat persetujuan: ${position} dari ${of}, ${level.name.id}`);
    detailEn.push(`Approval level: ${position} of ${of}, ${level.name.en}`);
  }
  if (request.assignee === 'alternate') {
    // The alternate should know why a request reaches them, and that the first link no longer decides.
    detailId.push('Dialihkan kepada Anda: pemberi persetujuan pertama belum memutuskan dalam waktu yang ditentukan.');
    detailEn.push('Moved to you: the first approver did not decide in the time allowed.');
  }
  if (request.kind === 'financing-outcome' && c.referral) {
    detailId.push(`Skema: ${c.referral.schemeName}`);
    detailEn.push(`Scheme: ${c.referral.schemeName}`);
  }
  const text = [
    `${subject.id}.`,
    ...detailId,
    `Batas waktu: ${formatDeadline(request.deadline)}`,
    '',
    `Buka tautan ini untuk melihat data dan memberi keputusan (tautan hanya untuk Anda, jangan diteruskan):`,
    link,
    '',
    '---',
    `${subject.en}.`,
    ...detailEn,
    `Deadline: ${formatDeadline(request.deadline)}`,
    '',
    'Open this link to see the case and decide (the link is for you only, do not forward it):',
    link,
    '',
  ].join('\n');
  return {
    to: request.recipient,
    subject: `${prefix}[Prokus] ${subject.id} / ${subject.en} — ${district} ${c.caseId}`,
    text,
    headers: { 'X-Prokus-Kind': request.kind, 'X-Prokus-Case': c.caseId },
  };
}
