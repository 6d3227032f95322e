import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Case } from '#domain/case';
import { signLink } from '#lib/secrets';
import { showRequest } from '#requests/pages/flow';
import { requestIdFor } from '#requests/requests';
import { handler } from '../../functions/open-request.ts';
import { caseItem, makeCase, personal } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { sessionOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESv2Client);
setTestEnv();

const NOW = new Date('2026-01-10T00:00:00Z');
const DAY = 86_400;
/** Kab. Majalengka's approvers of the first level in programs/2020.json. */
const PRIMARY = 'kadinsos.majalengka@dinsos.example';
const ALTERNATE = 'sekdinsos.majalengka@dinsos.example';
const OPEN_APPROVAL = { caseId: makeCase().caseId, kind: 'grant-approval', level: 'district' };

const primaryId = (c: Case) => requestIdFor(c.caseId, 'grant-approval', { level: 'district' });
const alternateId = (c: Case) => requestIdFor(c.caseId, 'grant-approval', { level: 'district', alternate: true });

function given(c: Case, request?: Record<string, unknown>, alternate?: Record<string, unknown>) {
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
  ddb.on(GetCommand, { Key: { sk: 'REQUEST' } }).resolves(request ? { Item: request } : {});
  ddb.on(GetCommand, { Key: { pk: `REQUEST#${alternateId(c)}` } }).resolves(alternate ? { Item: alternate } : {});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({ Attributes: caseItem(c) });
}

async function mails() {
  return Promise.all(
    ses.commandCalls(SendEmailCommand).map(async (call) => {
      const mail = await simpleParser(Buffer.from(call.args[0].input.Content?.Raw?.Data ?? new Uint8Array()));
      return { to: mail.to && !Array.isArray(mail.to) ? mail.to.text : '', subject: mail.subject ?? '', text: mail.text ?? '' };
    }),
  );
}

const escalations = () => ddb.commandCalls(UpdateCommand).filter((c) => c.args[0].input.UpdateExpression?.includes(':escalated'));

async function sentMail() {
  const raw = ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Raw?.Data;
  const mail = await simpleParser(Buffer.from(raw ?? new Uint8Array()));
  return { to: mail.to && !Array.isArray(mail.to) ? mail.to.text : '', subject: mail.subject ?? '', text: mail.text ?? '' };
}

/** A first-level grant approval request of the primary approver, as OpenRequest stored it earlier. */
function approvalRequest(c: Case, over: Record<string, unknown>): Record<string, unknown> {
  return {
    requestId: primaryId(c),
    kind: 'grant-approval',
    caseId: c.caseId,
    level: 'district',
    assignee: 'primary',
    recipient: PRIMARY,
    reminders: 0,
    ...over,
  };
}

beforeEach(() => {
  ddb.reset();
  ses.reset();
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => vi.useRealTimers());

describe('OpenRequest', () => {
  it('creates a grant approval request and emails the approver a signed link without personal data', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c);
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    // First wait lasts until the first reminder (3 days), well before the 14-day deadline.
    expect(out).toEqual({ requestId: primaryId(c), waitSeconds: 3 * DAY });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({
      kind: 'grant-approval',
      recipient: PRIMARY,
      status: 'open',
      level: 'district',
      assignee: 'primary',
      deadline: '2026-01-24T00:00:00.000Z',
      // The level's request moves to the alternate after 5 days without a decision.
      escalateAt: '2026-01-15T00:00:00.000Z',
    });
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
    const mail = await sentMail();
    expect(mail.to).toBe(PRIMARY);
    expect(mail.subject).toBe(
      `[Prokus] Persetujuan bantuan BSiMU diperlukan / BSiMU grant approval needed — Kab. Majalengka ${c.caseId}`,
    );
    expect(mail.text).toMatch(new RegExp(`https://pages.example/r/${out.requestId}\\.[A-Za-z0-9_-]{22}`));
    expect(mail.text).not.toContain(personal.nik);
    expect(mail.text).not.toContain(personal.nama);
    expect(mail.text).toContain('Approval level: 1 of 2, Head of the district social office');
  });

  it('does not email again on a later pass before the reminder is due', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(
      c,
      approvalRequest(c, {
        status: 'open',
        openedAt: '2026-01-09T00:00:00.000Z',
        mailedAt: '2026-01-09T00:00:00.000Z',
        deadline: '2026-01-23T00:00:00.000Z',
      }),
    );
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(out.waitSeconds).toBe(2 * DAY);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('sends a reminder once the reminder interval has passed', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(
      c,
      approvalRequest(c, {
        status: 'open',
        openedAt: '2026-01-07T00:00:00.000Z',
        mailedAt: '2026-01-07T00:00:00.000Z',
        deadline: '2026-01-11T00:00:00.000Z',
      }),
    );
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect((await sentMail()).subject).toMatch(/^Pengingat \/ Reminder: \[Prokus\]/);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET remindedAt = :at ADD reminders :one' });
    // The next wait ends at the deadline (1 day), not after a full reminder interval.
    expect(out.waitSeconds).toBe(DAY);
  });

  it('records on the request that its first email went out', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c);
    await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${primaryId(c)}`, sk: 'REQUEST' },
      UpdateExpression: 'SET mailedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(mailedAt)',
      ExpressionAttributeValues: { ':at': NOW.toISOString() },
    });
  });

  it('sends the first email of a request an earlier run stored but never mailed (a crash in between)', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c, approvalRequest(c, { status: 'open', openedAt: '2026-01-09T23:00:00.000Z', deadline: '2026-01-23T23:00:00.000Z' }));
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    const mail = await sentMail();
    expect(mail.to).toBe(PRIMARY);
    // The first email, not a reminder, and the next wait counts from it.
    expect(mail.subject).toMatch(/^\[Prokus\] Persetujuan bantuan/);
    expect(out.waitSeconds).toBe(3 * DAY);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET mailedAt = :at' });
  });

  it('fails when SES fails, without recording the email, so the retry sends it', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c);
    ses.on(SendEmailCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' }));
    await expect(invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId })).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    expect(ddb).not.toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET mailedAt = :at' });

    // The retry finds the request the first run stored, unmailed, and mails it.
    const stored = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    ddb.on(GetCommand, { Key: { sk: 'REQUEST' } }).resolves({ Item: stored });
    await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
    expect((await sentMail()).to).toBe(PRIMARY);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET mailedAt = :at' });
  });

  it('does not mail a request that was decided before its email was recorded', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(
      c,
      approvalRequest(c, {
        status: 'decided',
        decision: { decision: 'approved' },
        openedAt: '2026-01-09T00:00:00.000Z',
        deadline: '2026-01-23T00:00:00.000Z',
      }),
    );
    await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('records a missed milestone and throws DeadlinePassedError once the deadline passed', async () => {
    const c = makeCase({ stage: 'mentoring', mentoringStartedAt: '2025-12-01T00:00:00.000Z' });
    given(c);
    // Due 30 days after disbursement (2025-12-31): already past on 2026-01-10.
    await expect(
      invoke(handler, { caseId: c.caseId, kind: 'milestone-report', milestoneId: 'pemisahan-keuangan' }),
    ).rejects.toMatchObject({
      name: 'DeadlinePassedError',
    });
    const caseUpdate = ddb.commandCalls(UpdateCommand).find((call) => call.args[0].input.Key?.pk === `CASE#${c.caseId}`);
    expect(Object.values(caseUpdate!.args[0].input.ExpressionAttributeValues ?? {})).toContainEqual({
      'pemisahan-keuangan': { status: 'missed', at: NOW.toISOString() },
    });
    // Nobody is emailed a link that could no longer be used.
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('sends a milestone report link to the district mentor with the milestone theme', async () => {
    const c = makeCase({ stage: 'mentoring', mentoringStartedAt: '2026-01-09T00:00:00.000Z' });
    given(c);
    const out = await invoke(handler, { caseId: c.caseId, kind: 'milestone-report', milestoneId: 'kemasan-merek' });
    expect(out.waitSeconds).toBe(3 * DAY);
    const mail = await sentMail();
    expect(mail.to).toBe('mentor.majalengka@oorange-unpad.example');
    expect(mail.text).toContain('Mentoring milestone: Packaging and branding');
  });

  it('never expires a request that was already decided, so AwaitRequest can replay the decision', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(
      c,
      approvalRequest(c, {
        status: 'decided',
        decision: { decision: 'approved' },
        openedAt: '2025-12-01T00:00:00.000Z',
        deadline: '2025-12-15T00:00:00.000Z',
      }),
    );
    await expect(invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId })).resolves.toMatchObject({ waitSeconds: 1 });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});

describe("OpenGrantApproval: escalation to the level's alternate approver", () => {
  /** The primary's request, emailed `ago` days before NOW, escalating 5 days after it opened, due 14 days after. */
  function primaryOpenedDaysAgo(c: Case, ago: number, over: Record<string, unknown> = {}) {
    const at = (days: number) => new Date(NOW.getTime() + days * DAY * 1000).toISOString();
    return approvalRequest(c, {
      status: 'open',
      openedAt: at(-ago),
      mailedAt: at(-ago),
      escalateAt: at(5 - ago),
      deadline: at(14 - ago),
      ...over,
    });
  }

  it("never waits past the escalation: the next pass comes when the primary's time is up, not at the next reminder", async () => {
    const c = makeCase({ stage: 'grant-approval' });
    // Reminded half a day ago: the next reminder is 2.5 days away, the escalation 1 day.
    given(c, primaryOpenedDaysAgo(c, 4, { remindedAt: new Date(NOW.getTime() - DAY * 500).toISOString() }));
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(out.waitSeconds).toBe(DAY);
    expect(escalations()).toHaveLength(0);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it("once escalateAfter has passed: the primary's request is escalated conditionally, the alternate gets a request and a link of their own", async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c, primaryOpenedDaysAgo(c, 5));
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });

    expect(escalations()).toHaveLength(1);
    expect(escalations()[0]!.args[0].input).toMatchObject({
      Key: { pk: `REQUEST#${primaryId(c)}` },
      ConditionExpression: '#status = :open',
      ExpressionAttributeValues: { ':escalated': 'escalated', ':open': 'open', ':to': ALTERNATE },
    });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({
      requestId: alternateId(c),
      assignee: 'alternate',
      recipient: ALTERNATE,
      status: 'open',
      // The level's deadline stays the one its first request set.
      deadline: '2026-01-19T00:00:00.000Z',
    });
    expect(put.Item?.escalateAt).toBeUndefined();
    const sent = await mails();
    expect(sent.map((m) => m.to)).toEqual([ALTERNATE]);
    expect(sent[0]!.text).toContain('Moved to you: the first approver did not decide in the time allowed.');
    expect(sent[0]!.text).toContain(`https://pages.example/r/${alternateId(c)}.`);
    expect(sent[0]!.text).not.toContain(primaryId(c));
    expect(out).toEqual({ requestId: alternateId(c), waitSeconds: 3 * DAY });
  });

  it('does not escalate a request the primary decided at that moment: the conditional write fails and the decision stands', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    const open = primaryOpenedDaysAgo(c, 6);
    const decided = { ...open, status: 'decided', decision: { decision: 'approved' }, decidedAt: NOW.toISOString() };
    // The pass reads the request open; the approver's POST lands before the escalation write.
    ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
    ddb
      .on(GetCommand, { Key: { pk: `REQUEST#${primaryId(c)}` } })
      .resolvesOnce({ Item: open })
      .resolves({ Item: decided });
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });

    expect(escalations()).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    // AwaitGrantApproval attaches to the primary's decided request and replays it.
    expect(out.requestId).toBe(primaryId(c));
  });

  it("emails the alternate once: a later pass finds the alternate's request mailed and waits for its reminder", async () => {
    const c = makeCase({ stage: 'grant-approval' });
    const escalated = primaryOpenedDaysAgo(c, 6, {
      status: 'escalated',
      movedTo: ALTERNATE,
      escalatedAt: '2026-01-09T00:00:00.000Z',
    });
    const alternate = {
      requestId: alternateId(c),
      kind: 'grant-approval',
      caseId: c.caseId,
      level: 'district',
      assignee: 'alternate',
      recipient: ALTERNATE,
      status: 'open',
      reminders: 0,
      openedAt: '2026-01-09T00:00:00.000Z',
      mailedAt: '2026-01-09T00:00:00.000Z',
      deadline: escalated.deadline,
    };
    given(c, escalated, alternate);
    const out = await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    expect(escalations()).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(out).toEqual({ requestId: alternateId(c), waitSeconds: 2 * DAY });
  });

  it("opens and emails the alternate's request that a crash between the two writes left unopened", async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c, primaryOpenedDaysAgo(c, 6, { status: 'escalated', movedTo: ALTERNATE }));
    await invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId });
    expect(escalations()).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({
      requestId: alternateId(c),
      recipient: ALTERNATE,
    });
    expect((await mails()).map((m) => m.to)).toEqual([ALTERNATE]);
  });

  it("past the level's deadline with nobody having decided, expires the level instead of escalating", async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c, primaryOpenedDaysAgo(c, 15));
    await expect(invoke(handler, { ...OPEN_APPROVAL, caseId: c.caseId })).rejects.toMatchObject({ name: 'DeadlinePassedError' });
    expect(escalations()).toHaveLength(0);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${primaryId(c)}`, sk: 'REQUEST' },
      ExpressionAttributeValues: { ':expired': 'expired', ':open': 'open' },
    });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('the first link stops working once escalated: LINK_MOVED, saying (masked) whom the request moved to', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c, primaryOpenedDaysAgo(c, 6, { status: 'escalated', movedTo: ALTERNATE, escalatedAt: '2026-01-09T00:00:00.000Z' }));
    const token = `${primaryId(c)}.${signLink(primaryId(c))}`;
    const page = await showRequest(token, sessionOf(PRIMARY), NOW);
    expect(page.status).toBe(410);
    expect(page.html).toContain('This request has moved to another approver because no decision came in time.');
    expect(page.html).toContain('Permintaan ini sudah dialihkan kepada pemberi persetujuan lain');
    expect(page.html).toContain('The request is now for s•••a@dinsos.example, who got a link of their own.');
    expect(page.html).not.toContain(ALTERNATE);
  });

  it('refuses a grant approval without its level (the journey always gives one)', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c);
    await expect(invoke(handler, { caseId: c.caseId, kind: 'grant-approval' })).rejects.toThrow(/approval level/);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});
