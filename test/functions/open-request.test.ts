import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Case } from '#domain/case';
import { requestIdFor } from '#requests/requests';
import { handler } from '../../functions/open-request.ts';
import { caseItem, makeCase, personal } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESv2Client);
setTestEnv();

const NOW = new Date('2026-01-10T00:00:00Z');
const DAY = 86_400;

function given(c: Case, request?: Record<string, unknown>) {
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
  ddb.on(GetCommand, { Key: { sk: 'REQUEST' } }).resolves(request ? { Item: request } : {});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({ Attributes: caseItem(c) });
}

async function sentMail() {
  const raw = ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Raw?.Data;
  const mail = await simpleParser(Buffer.from(raw ?? new Uint8Array()));
  return { to: mail.to && !Array.isArray(mail.to) ? mail.to.text : '', subject: mail.subject ?? '', text: mail.text ?? '' };
}

/** A grant approval request as OpenRequest stored it earlier. */
function approvalRequest(c: Case, over: Record<string, unknown>) {
  return {
    requestId: requestIdFor(c.caseId, 'grant-approval'),
    kind: 'grant-approval',
    caseId: c.caseId,
    recipient: 'approver@dinsos.example',
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
    const out = await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
    // First wait lasts until the first reminder (3 days), well before the 14-day deadline.
    expect(out).toEqual({ requestId: requestIdFor(c.caseId, 'grant-approval'), waitSeconds: 3 * DAY });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({
      kind: 'grant-approval',
      recipient: 'approver@dinsos.example',
      status: 'open',
      deadline: '2026-01-24T00:00:00.000Z',
    });
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
    const mail = await sentMail();
    expect(mail.to).toBe('approver@dinsos.example');
    expect(mail.subject).toBe(
      `[Prokus] Persetujuan bantuan BSiMU diperlukan / BSiMU grant approval needed — Kab. Majalengka ${c.caseId}`,
    );
    expect(mail.text).toMatch(new RegExp(`https://pages.example/r/${out.requestId}\\.[A-Za-z0-9_-]{22}`));
    expect(mail.text).not.toContain(personal.nik);
    expect(mail.text).not.toContain(personal.nama);
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
    const out = await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
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
    const out = await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
    expect((await sentMail()).subject).toMatch(/^Pengingat \/ Reminder: \[Prokus\]/);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET remindedAt = :at ADD reminders :one' });
    // The next wait ends at the deadline (1 day), not after a full reminder interval.
    expect(out.waitSeconds).toBe(DAY);
  });

  it('records on the request that its first email went out', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c);
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${requestIdFor(c.caseId, 'grant-approval')}`, sk: 'REQUEST' },
      UpdateExpression: 'SET mailedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(mailedAt)',
      ExpressionAttributeValues: { ':at': NOW.toISOString() },
    });
  });

  it('sends the first email of a request an earlier run stored but never mailed (a crash in between)', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c, approvalRequest(c, { status: 'open', openedAt: '2026-01-09T23:00:00.000Z', deadline: '2026-01-23T23:00:00.000Z' }));
    const out = await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
    const mail = await sentMail();
    expect(mail.to).toBe('approver@dinsos.example');
    // The first email, not a reminder, and the next wait counts from it.
    expect(mail.subject).toMatch(/^\[Prokus\] Persetujuan bantuan/);
    expect(out.waitSeconds).toBe(3 * DAY);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET mailedAt = :at' });
  });

  it('fails when SES fails, without recording the email, so the retry sends it', async () => {
    const c = makeCase({ stage: 'grant-approval' });
    given(c);
    ses.on(SendEmailCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' }));
    await expect(invoke(handler, { caseId: c.caseId, kind: 'grant-approval' })).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    expect(ddb).not.toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'SET mailedAt = :at' });

    // The retry finds the request the first run stored, unmailed, and mails it.
    const stored = ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    ddb.on(GetCommand, { Key: { sk: 'REQUEST' } }).resolves({ Item: stored });
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
    expect((await sentMail()).to).toBe('approver@dinsos.example');
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
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval' });
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
    await expect(invoke(handler, { caseId: c.caseId, kind: 'grant-approval' })).resolves.toMatchObject({ waitSeconds: 1 });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});
