/**
 * Grant approvals in the embedded runtime's outbox, level by level: the tests that run a
 * journey to Disbursement decide every approval level as its recipient, the way the people
 * would (each level's approver gets their own email and link; programs/2020.json has two
 * levels, the district head and then the directorate).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browsers } from '../../cli/people.ts';
import { decideAs } from './people.ts';

export interface ApprovalMail {
  file: string;
  to: string;
  caseId: string;
  link: string;
  /** The level's position, from the email's "Approval level: 1 of 2, …" line. */
  level: number;
  levels: number;
}

/** The grant-approval emails in the outbox (of one case, when given), oldest first; reminders included. */
export async function approvalMails(outboxDir: string, caseId?: string): Promise<ApprovalMail[]> {
  const mails: ApprovalMail[] = [];
  for (const file of (await readdir(outboxDir)).filter((f) => f.endsWith('.eml')).sort()) {
    const mail = await simpleParser(await readFile(join(outboxDir, file)));
    if (mail.headers.get('x-prokus-kind') !== 'grant-approval') continue;
    const of = String(mail.headers.get('x-prokus-case') ?? '');
    if (caseId && of !== caseId) continue;
    const text = mail.text ?? '';
    const link = /http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(text)?.[0];
    const level = /Approval level: (\d+) of (\d+)/.exec(text);
    if (!link || !level) continue;
    const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
    mails.push({ file, to: to ?? '', caseId: of, link, level: Number(level[1]), levels: Number(level[2]) });
  }
  return mails;
}

/**
 * Decides a case's grant approval over HTTP as each level's recipient: every level before
 * the last approves (then the journey emails the next level), the last level sends `body`.
 * Returns the last level's pages and its recipient.
 */
export async function decideEveryLevel(
  browsers: Browsers,
  rt: { outboxDir: string; idle(opts?: { timeoutMs?: number }): Promise<void> },
  caseId: string,
  body = 'decision=approved',
): Promise<Awaited<ReturnType<typeof decideAs>> & { recipient: string }> {
  for (let level = 1; ; level++) {
    const mail = (await approvalMails(rt.outboxDir, caseId)).find((m) => m.level === level);
    if (!mail) throw new Error(`no approval email for level ${level} of ${caseId} in the outbox`);
    const last = mail.level === mail.levels;
    const decided = await decideAs(browsers, mail.to, mail.link, last ? body : 'decision=approved');
    if (decided.posted.status >= 400 || last) return { ...decided, recipient: mail.to };
    await rt.idle({ timeoutMs: 60_000 });
  }
}
