/**
 * Named errors. Task handlers throw these (never return error objects) so the
 * state machines' Retry/Catch can match them by name. Each carries a stable code
 * and a message in Indonesian and English, because every one of them can end up
 * in front of an officer, an approver or an operator.
 *
 * `name` is assigned explicitly: bundlers rename classes, Step Functions matches
 * on the `errorType` Lambda reports, which is `error.name`.
 */

export interface Bilingual {
  id: string;
  en: string;
}

export abstract class ProkusError extends Error {
  abstract override readonly name: string;
  /**
   * Thrown by design to send the state machine down the path its name is caught on
   * (the family is not eligible, a deadline passed, …), not because something broke.
   * Lambda still counts it as an error; the alarms do not (lib/metrics.ts, ExpectedTaskErrors).
   */
  readonly expected: boolean = false;
  constructor(
    readonly code: string,
    readonly text: Bilingual,
  ) {
    // The English text is the exception message so logs stay readable for operators;
    // messages never carry personal data.
    super(`${code}: ${text.en}`);
  }
}

/** The family does not meet the program rules. The reasons are recorded on the case. */
export class IneligibleError extends ProkusError {
  readonly name = 'IneligibleError';
  override readonly expected = true;
  constructor(readonly reasons: string[]) {
    super('INELIGIBLE', {
      id: `Keluarga tidak memenuhi syarat: ${reasons.join(', ')}`,
      en: `The family is not eligible: ${reasons.join(', ')}`,
    });
  }
}

/** The deadline of a request (approval, milestone report, financing outcome) has passed. */
export class DeadlinePassedError extends ProkusError {
  readonly name = 'DeadlinePassedError';
  override readonly expected = true;
  constructor(kind: string) {
    super('DEADLINE_PASSED', {
      id: `Batas waktu ${kind} telah lewat`,
      en: `The deadline for ${kind} has passed`,
    });
  }
}

/**
 * The district's grant quota for the program year is used up, or the program year's
 * national ceiling is (`national`): either way the journey closes the case quota-exhausted.
 */
export class QuotaExhaustedError extends ProkusError {
  readonly name = 'QuotaExhaustedError';
  override readonly expected = true;
  constructor(district: string, programYear: number, which: 'district' | 'national' = 'district') {
    super(
      which === 'national' ? 'NATIONAL_CEILING_REACHED' : 'QUOTA_EXHAUSTED',
      which === 'national'
        ? {
            id: `Batas nasional bantuan tahun ${programYear} sudah tercapai`,
            en: `The national grant ceiling for ${programYear} is reached`,
          }
        : {
            id: `Kuota bantuan ${district} tahun ${programYear} sudah habis`,
            en: `The grant quota of ${district} for ${programYear} is used up`,
          },
    );
  }
}

/** The family's one grant (one per family card, ever) is held by another of its cases. */
export class AlreadyGrantedError extends ProkusError {
  readonly name = 'AlreadyGrantedError';
  override readonly expected = true;
  constructor() {
    super('ALREADY_GRANTED', {
      id: 'Keluarga ini sudah menerima bantuan melalui usulan lain; satu kartu keluarga hanya menerima bantuan sekali',
      en: 'This family already received a grant through another proposal; a family card receives a grant only once',
    });
  }
}

/** Every milestone of the mentoring plan was missed: there is nothing to grade. */
export class MentoringIncompleteError extends ProkusError {
  readonly name = 'MentoringIncompleteError';
  override readonly expected = true;
  constructor() {
    super('MENTORING_INCOMPLETE', {
      id: 'Tidak ada laporan pendampingan yang masuk sampai batas waktu',
      en: 'No mentoring report arrived before the deadlines',
    });
  }
}

/**
 * The error name the approval page sends with SendTaskFailure when an approver
 * rejects a grant. It is a name on the wire, not a class: nothing throws it locally.
 */
export const GRANT_REJECTED = 'GrantRejected';

export class CaseNotFoundError extends ProkusError {
  readonly name = 'CaseNotFoundError';
  constructor(caseId: string) {
    super('CASE_NOT_FOUND', { id: `Kasus ${caseId} tidak ditemukan`, en: `Case ${caseId} not found` });
  }
}

/** The case is not at the stage this step expects: a stale or duplicated execution. */
export class StageConflictError extends ProkusError {
  readonly name = 'StageConflictError';
  constructor(caseId: string, expected: string, actual: string) {
    super('STAGE_CONFLICT', {
      id: `Kasus ${caseId} berada di tahap ${actual}, bukan ${expected}`,
      en: `Case ${caseId} is at stage ${actual}, not ${expected}`,
    });
  }
}

/** A dependency failed in a way worth retrying (throttling, timeouts). */
export class TransientError extends ProkusError {
  readonly name = 'TransientError';
  constructor(what: string) {
    super('TRANSIENT', {
      id: `Gangguan sementara: ${what}. Akan dicoba lagi.`,
      en: `Temporary failure: ${what}. Will be retried.`,
    });
  }
}

export class ProgramConfigError extends ProkusError {
  readonly name = 'ProgramConfigError';
  constructor(detail: string) {
    super('PROGRAM_CONFIG_INVALID', {
      id: `Konfigurasi program tidak valid: ${detail}`,
      en: `Invalid program configuration: ${detail}`,
    });
  }
}

/** A link in an email that cannot be used: unknown, forged, expired, already used, or moved to another approver. */
export class LinkError extends ProkusError {
  readonly name = 'LinkError';
  static readonly texts = {
    LINK_INVALID: {
      id: 'Tautan tidak dikenal atau rusak. Periksa kembali tautan di email Anda.',
      en: 'This link is unknown or damaged. Check the link in your email.',
    },
    LINK_EXPIRED: {
      id: 'Tautan ini sudah kedaluwarsa.',
      en: 'This link has expired.',
    },
    LINK_USED: {
      id: 'Keputusan untuk tautan ini sudah dicatat sebelumnya.',
      en: 'A decision was already recorded through this link.',
    },
    LINK_MOVED: {
      id: 'Permintaan ini sudah dialihkan kepada pemberi persetujuan lain karena belum ada keputusan sampai batas waktunya. Tautan ini tidak dapat dipakai lagi.',
      en: 'This request has moved to another approver because no decision came in time. This link can no longer be used.',
    },
  } as const;
  constructor(readonly linkCode: keyof typeof LinkError.texts) {
    super(linkCode, LinkError.texts[linkCode]);
  }
}

/** A form submitted through a page failed validation; `fields` says which fields and why. */
export class FormInvalidError extends ProkusError {
  readonly name = 'FormInvalidError';
  constructor(readonly fields: Record<string, Bilingual>) {
    super('FORM_INVALID', {
      id: 'Isian formulir belum benar. Perbaiki kolom yang ditandai.',
      en: 'The form has errors. Correct the marked fields.',
    });
  }
}

/** A proposal file that cannot be read at all: nothing in it starts. */
export class ProposalFileError extends ProkusError {
  readonly name = 'ProposalFileError';
  override readonly expected = true;
}
