/**
 * What a page request does, independent of HTTP plumbing. GET only reads (mail
 * scanners open every link); POST validates the form, then `decide()` records the
 * decision once, applies it to the case and settles the journey's task; the page then
 * tells the person what the case now says.
 *
 * The link names the request; it does not name the person. Only someone signed in with
 * the address the request is for sees the case or decides; anyone else who has the link
 * (a forwarded email, a scanner) sees whom it is for, masked, and can do nothing.
 * pages.ts has checked the anti-forgery token and origin of a POST before it gets here.
 */

import { type Bilingual, FormInvalidError, LinkError } from '#domain/errors';
import { decidedBy, isRecipient, maskEmail } from '#domain/person';
import { logger } from '#lib/logger';
import { assertOpen, type Decided, decide, parseDecision } from '#requests/decisions';
import { findRequest, type Request, type RequestKind, requestIdFromLink } from '#requests/requests';
import type { Session } from '#store/sessions';
import { bi, Html, html, label } from '#web/html';
import { layout, type Viewer } from '#web/layout';
import { type FormValues, loadContext, type PageContext } from './context.ts';
import { EMPTY_FORM, errorSummary, type FormState, type KindPage } from './fields.ts';
import { financingOutcomePage } from './financing-outcome.ts';
import { formatDateTime } from './format.ts';
import { grantApprovalPage } from './grant-approval.ts';
import { milestoneReportPage } from './milestone-report.ts';

export interface PageResponse {
  status: number;
  html: string;
}

const PAGES: Record<RequestKind, KindPage> = {
  'grant-approval': grantApprovalPage,
  'milestone-report': milestoneReportPage,
  'financing-outcome': financingOutcomePage,
};

const LINK_STATUS: Record<LinkError['linkCode'], number> = {
  LINK_INVALID: 404,
  LINK_EXPIRED: 410,
  LINK_USED: 409,
  // Gone for good: the request lives on under the alternate approver's own link.
  LINK_MOVED: 410,
};

function footer(request: Request) {
  return bi({
    id: `Tautan ini dikirim kepada ${request.recipient} dan hanya mencatat satu keputusan. Jangan meneruskan email ini.`,
    en: `This link was sent to ${request.recipient} and records one decision only. Do not forward the email.`,
  });
}

const viewerOf = (session: Session): Viewer => ({ email: session.person.email, csrf: session.csrf });

/** The hidden field that carries the session's anti-forgery token in every form. */
export function csrfField(session: Session) {
  return html`<input type="hidden" name="csrf" value="${session.csrf}">`;
}

function requestPage(ctx: PageContext, session: Session, state: FormState): string {
  const page = PAGES[ctx.request.kind];
  // The problems come first: on a phone the person lands at the top, not at the form.
  const problems = errorSummary(state, page.formInvalid);
  // The token goes in right after the form's opening tag: every kind's form gets it, none can forget it.
  const form = html`${page.form(ctx, state)}`.value.replace(/^<form([^>]*)>/, (open) => `${open}${csrfField(session).value}`);
  return layout(page.title, html`${problems}${page.facts(ctx)}${new Html(form)}`, footer(ctx.request), viewerOf(session));
}

const KIND_TITLES: Record<RequestKind, Bilingual> = {
  'grant-approval': { id: 'Persetujuan bantuan', en: 'Grant approval' },
  'milestone-report': { id: 'Laporan pendampingan', en: 'Mentoring report' },
  'financing-outcome': { id: 'Hasil rujukan pembiayaan', en: 'Financing outcome' },
};

/** The sign-in link that brings the person back to this request. */
export const signInPath = (returnTo: string) => `/signin?returnTo=${encodeURIComponent(returnTo)}`;

/** Nobody signed in: whom the request is for (masked), and the way to sign in. Nothing of the case. */
export function signInNeededPage(token: string, request: Request, status = 200): PageResponse {
  const recipient = maskEmail(request.recipient);
  return {
    status,
    html: layout(
      KIND_TITLES[request.kind],
      html`${bi({
        id: `Permintaan ini ditujukan kepada ${recipient}. Masuk dengan alamat email itu untuk melihat data dan memberi keputusan.`,
        en: `This request is for ${recipient}. Sign in with that email address to see the case and decide.`,
      })}<a class="button" href="${signInPath(`/r/${token}`)}">${label({ id: 'Masuk', en: 'Sign in' })}</a>${bi({
        id: 'Anda akan menerima kode sekali pakai di alamat email tersebut; tidak perlu kata sandi.',
        en: 'You will get a one-time code at that address; no password needed.',
      })}`,
    ),
  };
}

/** Signed in as someone else: the request is not theirs, and they can decide nothing. */
function forSomeoneElsePage(request: Request, session: Session): PageResponse {
  const recipient = maskEmail(request.recipient);
  return noticePage(
    403,
    { id: 'Permintaan untuk orang lain', en: 'This request is for someone else' },
    {
      id: `Permintaan ini ditujukan kepada ${recipient}, bukan kepada ${session.person.email}. Anda tidak dapat melihat atau memutuskannya.`,
      en: `This request is for ${recipient}, not for ${session.person.email}. You cannot see or decide it.`,
    },
    bi({
      id: 'Jika permintaan ini untuk Anda, keluar lalu masuk dengan alamat yang benar.',
      en: 'If it is meant for you, sign out and sign in with the right address.',
    }),
    viewerOf(session),
  );
}

/** A page that refuses or reports a failure: the reason in a notice, then what else the person needs. */
function noticePage(status: number, title: Bilingual, text: Bilingual, more?: Html | false, viewer?: Viewer): PageResponse {
  return { status, html: layout(title, html`<div class="notice bad">${bi(text)}</div>${more}`, undefined, viewer) };
}

/** A POST that is not from this site's own form (another origin, no or a wrong token): nothing is decided. */
export function forgedPostPage(): PageResponse {
  return noticePage(
    403,
    { id: 'Keputusan tidak dicatat', en: 'Decision not recorded' },
    {
      id: 'Formulir ini tidak dikirim dari halaman permintaan Anda, atau sesi Anda sudah berganti. Tidak ada yang dicatat. Buka tautan dari email Anda lagi.',
      en: 'This form was not sent from your request page, or your session has changed. Nothing was recorded. Open the link from your email again.',
    },
  );
}

export function linkErrorPage(error: LinkError, request?: Request): PageResponse {
  const when = (iso: string | undefined, term: Bilingual) =>
    iso && html`<p>${label(term)}</p><p><strong>${label(formatDateTime(iso))}</strong></p>`;
  const by = request?.decidedBy && maskEmail(request.decidedBy.email);
  const detail =
    error.linkCode === 'LINK_USED'
      ? html`${when(request?.decidedAt, { id: 'Keputusan dicatat pada', en: 'The decision was recorded on' })}${
          by && html`<p>${label({ id: 'Oleh', en: 'By' })}</p><p><strong>${by}</strong></p>`
        }`
      : error.linkCode === 'LINK_EXPIRED'
        ? html`${when(request?.deadline, { id: 'Batas waktunya', en: 'Its deadline was' })}${bi({
            id: 'Jika keputusan masih diperlukan, hubungi Dinas Sosial kabupaten/kota.',
            en: 'If a decision is still needed, contact the district social office.',
          })}`
        : error.linkCode === 'LINK_MOVED' && request?.movedTo
          ? html`${when(request.escalatedAt, { id: 'Dialihkan pada', en: 'Moved on' })}${bi({
              id: `Permintaan ini sekarang ditujukan kepada ${maskEmail(request.movedTo)}, yang menerima tautannya sendiri.`,
              en: `The request is now for ${maskEmail(request.movedTo)}, who got a link of their own.`,
            })}`
          : false;
  const title = {
    LINK_INVALID: { id: 'Tautan tidak dikenal', en: 'Unknown link' },
    LINK_EXPIRED: { id: 'Tautan kedaluwarsa', en: 'Link expired' },
    LINK_USED: { id: 'Keputusan sudah tercatat', en: 'Decision already recorded' },
    LINK_MOVED: { id: 'Permintaan sudah dialihkan', en: 'Request moved to another approver' },
  }[error.linkCode];
  return noticePage(LINK_STATUS[error.linkCode], title, error.text, detail);
}

/** Pages for the HTTP layer's own refusals (no such route, wrong content type). */
export function httpErrorPage(status: number): PageResponse {
  const text: Bilingual =
    status === 404
      ? { id: 'Halaman tidak ditemukan.', en: 'Page not found.' }
      : status === 413
        ? { id: 'Isian yang dikirim terlalu besar.', en: 'What was sent is too large.' }
        : { id: 'Permintaan tidak dapat diproses.', en: 'The request cannot be processed.' };
  return noticePage(status, { id: 'Tidak dapat diproses', en: 'Cannot be processed' }, text);
}

/** The person gets a reference to quote; the operator finds the details in the log under it. */
export function failurePage(reference: string): PageResponse {
  return noticePage(
    500,
    { id: 'Terjadi gangguan', en: 'Something went wrong' },
    {
      id: 'Maaf, terjadi gangguan. Silakan coba lagi beberapa saat lagi. Jika Anda sedang mengirim keputusan, buka tautannya lagi: halaman akan menunjukkan apakah keputusan sudah tercatat.',
      en: 'Sorry, something failed. Please try again in a moment. If you were sending a decision, open the link again: the page shows whether it was recorded.',
    },
    html`${bi({ id: 'Jika terus terjadi, sebutkan kode rujukan ini kepada petugas:', en: 'If it keeps happening, give this reference to the officer:' })}<p><strong>${reference}</strong></p>`,
  );
}

/** Finds the open request behind a link, or the page that says why it cannot be used. */
async function openRequestFor(token: string, now: Date): Promise<{ request: Request } | { refused: PageResponse }> {
  let request: Request | undefined;
  try {
    request = await findRequest(requestIdFromLink(token));
    assertOpen(request, now);
    return { request };
  } catch (e) {
    if (!(e instanceof LinkError)) throw e;
    return { refused: linkErrorPage(e, request) };
  }
}

export async function showRequest(token: string, session: Session | undefined, now = new Date()): Promise<PageResponse> {
  const found = await openRequestFor(token, now);
  if ('refused' in found) return found.refused;
  if (!session) return signInNeededPage(token, found.request);
  if (!isRecipient(session.person, found.request.recipient)) return forSomeoneElsePage(found.request, session);
  const ctx = await loadContext(found.request);
  return { status: 200, html: requestPage(ctx, session, EMPTY_FORM) };
}

/** Domain validation first (it names the fields), then the page's own rules for fields still clean. */
function validate(ctx: PageContext, page: KindPage, candidate: unknown): Record<string, Bilingual> {
  let errors: Record<string, Bilingual> = {};
  try {
    parseDecision(ctx.request.kind, candidate);
  } catch (e) {
    if (!(e instanceof FormInvalidError)) throw e;
    errors = { ...e.fields };
  }
  return { ...page.check(ctx, candidate), ...errors };
}

/**
 * A POST of a request's form, by `session` (pages.ts has checked its token and origin),
 * carried by the page request `pageRequestId`.
 */
export async function submitDecision(
  token: string,
  values: FormValues,
  visit: { session: Session; pageRequestId: string },
  now = new Date(),
): Promise<PageResponse> {
  const { session } = visit;
  const found = await openRequestFor(token, now);
  if ('refused' in found) return found.refused;
  if (!isRecipient(session.person, found.request.recipient)) return forSomeoneElsePage(found.request, session);
  const ctx = await loadContext(found.request);
  const page = PAGES[ctx.request.kind];
  const candidate = page.toDecision(values);
  const errors = validate(ctx, page, candidate);
  if (Object.keys(errors).length > 0) return { status: 400, html: requestPage(ctx, session, { values, errors }) };
  let decided: Decided;
  try {
    decided = await decide(ctx.request.requestId, candidate, decidedBy(session.person, visit.pageRequestId), now);
  } catch (e) {
    if (e instanceof FormInvalidError) return { status: 400, html: requestPage(ctx, session, { values, errors: e.fields }) };
    // Someone else (a double click, a second tab) got there first.
    if (e instanceof LinkError) return linkErrorPage(e, await findRequest(ctx.request.requestId));
    throw e;
  }
  const { request } = decided;
  logger.info('decision recorded', { requestId: request.requestId, caseId: request.caseId, kind: request.kind });
  // The case as the decision left it: what the page says is what the case says.
  const recorded = { ...ctx, request, case: decided.case };
  return {
    status: 200,
    html: layout(
      { id: 'Keputusan tercatat', en: 'Decision recorded' },
      html`${page.recorded(recorded, request.decision)}${bi({
        id: `Dicatat atas nama ${session.person.email}, ${formatDateTime(request.decidedAt ?? now.toISOString()).id}.`,
        en: `Recorded in the name of ${session.person.email}, ${formatDateTime(request.decidedAt ?? now.toISOString()).en}.`,
      })}${bi({ id: 'Terima kasih. Anda dapat menutup halaman ini.', en: 'Thank you. You can close this page.' })}`,
      undefined,
      viewerOf(session),
    ),
  };
}
