/**
 * What a page request does, independent of HTTP plumbing. GET only reads (mail
 * scanners open every link); POST validates the form, then `decide()` records the
 * decision once, applies it to the case and settles the journey's task; the page then
 * tells the person what the case now says.
 */

import { type Bilingual, FormInvalidError, LinkError } from '#domain/errors';
import { logger } from '#lib/logger';
import { assertOpen, type Decided, decide, parseDecision } from '#requests/decisions';
import { findRequest, type Request, type RequestKind, requestIdFromLink } from '#requests/requests';
import { type FormValues, loadContext, type PageContext } from './context.ts';
import { EMPTY_FORM, errorSummary, type FormState, type KindPage } from './fields.ts';
import { financingOutcomePage } from './financing-outcome.ts';
import { formatDateTime } from './format.ts';
import { grantApprovalPage } from './grant-approval.ts';
import { bi, html, label } from './html.ts';
import { layout } from './layout.ts';
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

const LINK_STATUS: Record<LinkError['linkCode'], number> = { LINK_INVALID: 404, LINK_EXPIRED: 410, LINK_USED: 409 };

function footer(request: Request) {
  return bi({
    id: `Tautan ini dikirim kepada ${request.recipient} dan hanya mencatat satu keputusan. Jangan meneruskan email ini.`,
    en: `This link was sent to ${request.recipient} and records one decision only. Do not forward the email.`,
  });
}

function requestPage(ctx: PageContext, state: FormState): string {
  const page = PAGES[ctx.request.kind];
  // The problems come first: on a phone the person lands at the top, not at the form.
  const problems = errorSummary(state, page.formInvalid);
  return layout(page.title, html`${problems}${page.facts(ctx)}${page.form(ctx, state)}`, footer(ctx.request));
}

export function linkErrorPage(error: LinkError, request?: Request): PageResponse {
  const when = (iso: string | undefined, term: Bilingual) =>
    iso && html`<p>${label(term)}</p><p><strong>${label(formatDateTime(iso))}</strong></p>`;
  const detail =
    error.linkCode === 'LINK_USED'
      ? when(request?.decidedAt, { id: 'Keputusan dicatat pada', en: 'The decision was recorded on' })
      : error.linkCode === 'LINK_EXPIRED'
        ? html`${when(request?.deadline, { id: 'Batas waktunya', en: 'Its deadline was' })}${bi({
            id: 'Jika keputusan masih diperlukan, hubungi Dinas Sosial kabupaten/kota.',
            en: 'If a decision is still needed, contact the district social office.',
          })}`
        : false;
  const title = {
    LINK_INVALID: { id: 'Tautan tidak dikenal', en: 'Unknown link' },
    LINK_EXPIRED: { id: 'Tautan kedaluwarsa', en: 'Link expired' },
    LINK_USED: { id: 'Keputusan sudah tercatat', en: 'Decision already recorded' },
  }[error.linkCode];
  return {
    status: LINK_STATUS[error.linkCode],
    html: layout(title, html`<div class="notice bad">${bi(error.text)}</div>${detail}`),
  };
}

/** Pages for the HTTP layer's own refusals (no such route, wrong content type). */
export function httpErrorPage(status: number): PageResponse {
  const text: Bilingual =
    status === 404
      ? { id: 'Halaman tidak ditemukan.', en: 'Page not found.' }
      : status === 413
        ? { id: 'Isian yang dikirim terlalu besar.', en: 'What was sent is too large.' }
        : { id: 'Permintaan tidak dapat diproses.', en: 'The request cannot be processed.' };
  return {
    status,
    html: layout({ id: 'Tidak dapat diproses', en: 'Cannot be processed' }, html`<div class="notice bad">${bi(text)}</div>`),
  };
}

/** The person gets a reference to quote; the operator finds the details in the log under it. */
export function failurePage(reference: string): PageResponse {
  return {
    status: 500,
    html: layout(
      { id: 'Terjadi gangguan', en: 'Something went wrong' },
      html`<div class="notice bad">${bi({
        id: 'Maaf, terjadi gangguan. Silakan coba lagi beberapa saat lagi. Jika Anda sedang mengirim keputusan, buka tautannya lagi: halaman akan menunjukkan apakah keputusan sudah tercatat.',
        en: 'Sorry, something failed. Please try again in a moment. If you were sending a decision, open the link again: the page shows whether it was recorded.',
      })}</div>${bi({ id: 'Jika terus terjadi, sebutkan kode rujukan ini kepada petugas:', en: 'If it keeps happening, give this reference to the officer:' })}<p><strong>${reference}</strong></p>`,
    ),
  };
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

export async function showRequest(token: string, now = new Date()): Promise<PageResponse> {
  const found = await openRequestFor(token, now);
  if ('refused' in found) return found.refused;
  const ctx = await loadContext(found.request);
  return { status: 200, html: requestPage(ctx, EMPTY_FORM) };
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

export async function submitDecision(token: string, values: FormValues, now = new Date()): Promise<PageResponse> {
  const found = await openRequestFor(token, now);
  if ('refused' in found) return found.refused;
  const ctx = await loadContext(found.request);
  const page = PAGES[ctx.request.kind];
  const candidate = page.toDecision(values);
  const errors = validate(ctx, page, candidate);
  if (Object.keys(errors).length > 0) return { status: 400, html: requestPage(ctx, { values, errors }) };
  let decided: Decided;
  try {
    decided = await decide(ctx.request.requestId, candidate, now);
  } catch (e) {
    if (e instanceof FormInvalidError) return { status: 400, html: requestPage(ctx, { values, errors: e.fields }) };
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
      html`${page.recorded(recorded, request.decision)}${bi({ id: 'Terima kasih. Anda dapat menutup halaman ini.', en: 'Thank you. You can close this page.' })}`,
    ),
  };
}
