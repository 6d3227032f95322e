/**
 * The people of a run: approvers, mentors and lenders who read an emailed request in the
 * outbox and follow its link with real HTTP requests (GET the page, sign in with the
 * one-time code the provider mails them, POST the form with its anti-forgery token), plus
 * the inputs a district officer uploads. The demo plays them against its own runtime; the
 * crash test (test/crash/) plays the same people against a `prokus dev` that is killed
 * under them. Nothing is called behind the pages' back.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Browser, inputValue, type Page, signInWithCode } from './browser.ts';
import { PILOT_DISTRICTS, proposalCsv, registryCsv, type SyntheticFamily } from './synthetic.ts';

export interface PeopleCounts {
  approvals: number;
  rejections: number;
  milestoneReports: number;
  lenderOutcomes: number;
  reminders: number;
  otherEmails: number;
  /** First emails a person on leave left unanswered (the demo's escalation), and the alternates' emails that followed. */
  leftUnanswered: number;
  escalations: number;
  /** Links a slow first approver opened after their request had moved to the alternate. */
  movedBeforeAnswered: number;
}

export const noPeople = (): PeopleCounts => ({
  approvals: 0,
  rejections: 0,
  milestoneReports: 0,
  lenderOutcomes: 0,
  reminders: 0,
  otherEmails: 0,
  leftUnanswered: 0,
  escalations: 0,
  movedBeforeAnswered: 0,
});

/** A stable number in [0, 1) from a case id, so each person decides the same way every run. */
export function fraction(caseId: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${caseId}`).digest().readUInt32BE(0) / 2 ** 32;
}

// ---- reading a page's form: people fill what the page offers, by field name ----

interface PageForm {
  radios: Record<string, string[]>;
  checkboxes: Record<string, string[]>;
}

function readForm(html: string): PageForm {
  const form: PageForm = { radios: {}, checkboxes: {} };
  for (const m of html.matchAll(/<input\b[^>]*>/g)) {
    const tag = m[0];
    const type = /type="([^"]+)"/.exec(tag)?.[1];
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1];
    if (!name || value === undefined) continue;
    const group = type === 'radio' ? form.radios : type === 'checkbox' ? form.checkboxes : undefined;
    if (group) group[name] = [...(group[name] ?? []), value];
  }
  return form;
}

function choose(options: string[] | undefined, pattern: RegExp, field: string): string {
  const found = options?.find((o) => pattern.test(o));
  if (!found) throw new Error(`the page offers no ${pattern} for ${field} (options: ${options?.join(', ') ?? 'none'})`);
  return found;
}

type Counted = Exclude<
  keyof PeopleCounts,
  'reminders' | 'otherEmails' | 'leftUnanswered' | 'escalations' | 'movedBeforeAnswered'
>;

/** What each person does with a link. Deterministic per case; returns the form to POST and what it counts as. */
function decide(kind: string, caseId: string, form: PageForm): { body: URLSearchParams; counted: Counted } {
  const body = new URLSearchParams();
  switch (kind) {
    case 'grant-approval': {
      // About one in eight eligible families is rejected at the approval stage, with a reason.
      if (fraction(caseId, 'approver') < 0.12) {
        body.set('decision', choose(form.radios.decision, /^reject/, 'decision'));
        body.set('reasonCode', 'USAHA_TIDAK_ADA');
        body.set('reason', 'Saat kunjungan lapangan usaha tidak ditemukan / no business found at the field visit');
        return { body, counted: 'rejections' };
      }
      body.set('decision', choose(form.radios.decision, /^approve/, 'decision'));
      return { body, counted: 'approvals' };
    }
    case 'milestone-report': {
      // Three kinds of business progress, so grading and referral take every branch.
      const profile = fraction(caseId, 'mentor');
      const practices = form.checkboxes.practices ?? [];
      const adopted = profile < 0.35 ? practices : profile < 0.75 ? practices.slice(0, 3) : practices.slice(0, 1);
      body.set('businessRunning', choose(form.radios.businessRunning, /^(yes|ya|true)$/i, 'businessRunning'));
      body.set('monthlyRevenue', profile < 0.35 ? 'Rp 4.500.000' : profile < 0.75 ? '1.500.000' : '600000');
      for (const p of adopted) body.append('practices', p);
      body.set('notes', 'Pendampingan berjalan baik / mentoring on track');
      return { body, counted: 'milestoneReports' };
    }
    case 'financing-outcome': {
      if (fraction(caseId, 'lender') < 0.75) {
        body.set('status', choose(form.radios.status, /^financed$/, 'status'));
        body.set('amountRupiah', '2000000');
      } else {
        body.set('status', choose(form.radios.status, /^declined$/, 'status'));
        body.set('reason', 'Kapasitas bayar belum cukup / repayment capacity not yet sufficient');
      }
      return { body, counted: 'lenderOutcomes' };
    }
    default:
      throw new Error(`unknown request kind ${kind}`);
  }
}

// ---- one email, one person ----

/** An email that asks a person for a decision, as read from the outbox. */
export interface RequestEmail {
  file: string;
  kind: string;
  caseId: string;
  /** A reminder carries the same link as the first email. */
  reminder: boolean;
  link: string;
  /** The request id the link names (`/r/<requestId>.<signature>`). */
  requestId: string;
  /** Whom the email was sent to: the person who must sign in to decide. */
  recipient: string;
  /** For a grant approval: the level's first approver, or the alternate after an escalation. */
  assignee?: string;
}

/** Reads one outbox file; undefined for emails that ask nothing (an officer's intake report). */
export async function readRequestEmail(file: string): Promise<RequestEmail | undefined> {
  const mail = await simpleParser(await readFile(file));
  const kind = mail.headers.get('x-prokus-kind');
  const caseId = mail.headers.get('x-prokus-case');
  if (typeof kind !== 'string' || typeof caseId !== 'string') return undefined;
  const found = /(https?:\/\/\S+\/r\/([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+)/.exec(mail.text ?? '');
  if (!found?.[1] || !found[2]) throw new Error(`email ${file} (${kind}) has no link`);
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  const recipient = to?.value[0]?.address;
  if (!recipient) throw new Error(`email ${file} (${kind}) has no recipient`);
  return {
    file,
    kind,
    caseId,
    reminder: mail.subject?.startsWith('Pengingat') ?? false,
    link: found[1],
    requestId: found[2],
    recipient: recipient.toLowerCase(),
    assignee: (mail.headers.get('x-prokus-assignee') as string | undefined) ?? undefined,
  };
}

/** A page answered with a status the person cannot go on from. */
export class PageStatusError extends Error {
  override readonly name = 'PageStatusError';
  constructor(
    readonly method: string,
    readonly status: number,
    text: string,
  ) {
    super(
      `${method} answered ${status}: ${text
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .slice(0, 300)}`,
    );
  }
}

/** The page's answer to a link already decided (LINK_USED). */
const ALREADY_DECIDED = 409;

export type Answer =
  /** `page`: the form it was sent from (a second click sends from the same page). */
  | { outcome: 'decided'; body: URLSearchParams; counted: Counted; page: Page }
  /** The link had been used: by this person before (an answer lost on the way, a second copy of the email) or by another. */
  | { outcome: 'already-decided' }
  /** The request moved to the level's alternate before this approver got to it (escalation): theirs to decide now. */
  | { outcome: 'moved' };

/** The page of a link whose request escalated to the alternate (LINK_MOVED, 410). */
const isMoved = (page: Page) => page.status === 410 && page.text.includes('Request moved to another approver');

/**
 * Everyone who acts from an email, each with their own browser: signed in once with a
 * one-time code on the first link that asks for it, the session kept for the next links
 * (as a person's phone keeps it), signed in again when the session has gone.
 */
export class Browsers {
  private readonly browsers = new Map<string, Browser>();
  /** A person signs in once at a time: two links opened together must not race for the one code in the inbox. */
  private readonly signingIn = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: { pagesUrl: string; outboxDir: string }) {}

  browserOf(email: string): Browser {
    let browser = this.browsers.get(email);
    if (!browser) {
      browser = new Browser();
      this.browsers.set(email, browser);
    }
    return browser;
  }

  /** Opens a link as `email`, signing in first when the page asks who they are. */
  async open(email: string, link: string): Promise<Page> {
    const browser = this.browserOf(email);
    for (;;) {
      const pending = this.signingIn.get(email);
      if (pending) await pending.catch(() => undefined);
      const page = await browser.get(link);
      if (!isSignInPrompt(page)) return page;
      // Someone else's tab of this person started signing in meanwhile: wait for it and look again.
      if (this.signingIn.has(email)) continue;
      const signing = signInWithCode(browser, this.opts.pagesUrl, email, this.opts.outboxDir, new URL(link).pathname);
      this.signingIn.set(email, signing);
      try {
        return await signing;
      } finally {
        this.signingIn.delete(email);
      }
    }
  }

  /** POSTs a page's form as `email`, with the page's anti-forgery token, from the page's own origin. */
  async post(email: string, page: Page, body: URLSearchParams): Promise<Page> {
    const csrf = inputValue(page.text, 'csrf');
    const sent = new URLSearchParams(body);
    if (csrf) sent.set('csrf', csrf);
    return this.browserOf(email).postForm(page.url, sent);
  }
}

/** The page a request link shows to someone not signed in: whom it is for, and a sign-in button. */
export function isSignInPrompt(page: Page): boolean {
  return (
    page.status === 200 && /href="\/signin\?returnTo=/.test(page.text) && !/<form method="post" accept-charset/.test(page.text)
  );
}

/**
 * Plays the person who received the email: opens the link (signing in if asked), fills
 * the form, sends it. `beforePost` sees the form just before it goes (the crash test
 * kills `prokus dev` then).
 */
export async function answerRequest(
  browsers: Browsers,
  email: RequestEmail,
  beforePost?: (body: URLSearchParams) => void,
): Promise<Answer> {
  const page = await browsers.open(email.recipient, email.link);
  if (page.status === ALREADY_DECIDED) return { outcome: 'already-decided' };
  if (isMoved(page)) return { outcome: 'moved' };
  if (page.status !== 200) throw new PageStatusError(`GET ${email.kind}`, page.status, page.text);
  const { body, counted } = decide(email.kind, email.caseId, readForm(page.text));
  beforePost?.(body);
  const posted = await browsers.post(email.recipient, page, body);
  if (posted.status === ALREADY_DECIDED) return { outcome: 'already-decided' };
  if (isMoved(posted)) return { outcome: 'moved' };
  if (posted.status >= 400) throw new PageStatusError(`POST ${email.kind}`, posted.status, posted.text);
  return { outcome: 'decided', body, counted, page };
}

// ---- what the district officers upload ----

export interface Inputs {
  registry: string;
  proposals: { district: string; file: string }[];
}

/** The registry and one proposal file per pilot district, each with one damaged row to show the intake report at work. */
export async function writeInputs(dir: string, families: SyntheticFamily[], seed: number): Promise<Inputs> {
  await mkdir(dir, { recursive: true });
  const registry = join(dir, 'registry-pkh-graduasi.csv');
  await writeFile(registry, registryCsv(families, seed));
  const proposals: { district: string; file: string }[] = [];
  for (const district of PILOT_DISTRICTS) {
    const file = join(dir, `usulan-${district}.csv`);
    await writeFile(
      file,
      proposalCsv(
        families.filter((f) => f.district === district),
        1,
      ),
    );
    proposals.push({ district, file });
  }
  return { registry, proposals };
}
