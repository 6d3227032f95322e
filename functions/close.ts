/** Close: the journey's end, with its outcome and a reason a person can read. */
import { type Case, Outcome, Stage } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';

function reasonFor(outcome: Outcome, c: Case): Bilingual {
  switch (outcome) {
    case 'graduated': {
      const grade = c.grade ? `${c.grade.grade}` : '-';
      const financing = c.referral?.outcome?.status ?? 'no-response';
      return {
        id: `Lulus pendampingan (tingkat ${grade}); dirujuk ke ${c.referral?.schemeName ?? '-'}, hasil: ${financing}`,
        en: `Completed mentoring (grade ${grade}); referred to ${c.referral?.schemeName ?? '-'}, outcome: ${financing}`,
      };
    }
    case 'ineligible': {
      const failed = (c.verification?.explanation ?? []).filter((e) => e.en.startsWith('✗'));
      return {
        id: failed.map((e) => e.id).join('; ') || 'Tidak memenuhi syarat',
        en: failed.map((e) => e.en).join('; ') || 'Not eligible',
      };
    }
    case 'rejected': {
      const level = c.grantApproval?.level;
      const why = `(${c.grantApproval?.reasonCode ?? '-'}): ${c.grantApproval?.reason ?? ''}`;
      return {
        id: `Ditolak pemberi persetujuan${level ? ` tingkat ${level}` : ''} ${why}`,
        en: `Rejected by the approver${level ? ` at level ${level}` : ''} ${why}`,
      };
    }
    case 'approval-expired':
      return { id: 'Tidak ada keputusan persetujuan sampai batas waktu', en: 'No approval decision before the deadline' };
    case 'quota-exhausted':
      if (c.grantApproval?.quota === 'national-ceiling') {
        return {
          id: 'Batas nasional bantuan untuk tahun program sudah tercapai (kuota wilayah masih tersisa)',
          en: "The program year's national grant ceiling is reached (the district still had quota)",
        };
      }
      return {
        id: 'Kuota bantuan wilayah untuk tahun program sudah habis',
        en: "The district's grant quota for the program year is used up",
      };
    case 'mentoring-incomplete':
      return { id: 'Semua laporan pendampingan terlewat', en: 'Every mentoring report was missed' };
    case 'already-granted':
      return {
        id: 'Keluarga ini sudah menerima bantuan melalui usulan lain (satu kartu keluarga, satu kali bantuan)',
        en: 'The family already received a grant through another proposal (one grant per family card)',
      };
  }
}

export const handler = taskHandler(
  'close',
  z.object({ caseId: z.string().check(z.minLength(1)), outcome: Outcome }),
  async ({ caseId, outcome }) => {
    const c = await getCase(caseId);
    if (c.stage === 'closed') return { outcome: c.outcome ?? outcome };
    const open = Stage.options.filter((s) => s !== 'closed');
    await updateCase(caseId, {
      expectStage: open,
      set: { outcome, outcomeReason: reasonFor(outcome, c), closedAt: new Date().toISOString() },
      stage: 'closed',
    });
    return { outcome };
  },
);
