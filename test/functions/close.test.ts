import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#domain/case';
import { handler as close } from '../../functions/close.ts';
import { handler as grading } from '../../functions/grading.ts';
import { handler as recordFailure } from '../../functions/record-failure.ts';
import { answerCaseWrites, caseWrites } from '../helpers/case-writes.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

function given(c: Case) {
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
  answerCaseWrites(ddb, c.caseId);
}
const setValues = () => Object.values(caseWrites(ddb)[0]?.ExpressionAttributeValues ?? {});

beforeEach(() => ddb.reset());

describe('Close', () => {
  it('closes a rejected case with the approver reason in both languages', async () => {
    given(
      makeCase({
        stage: 'grant-approval',
        grantApproval: {
          decision: 'rejected',
          reasonCode: 'USAHA_TIDAK_ADA',
          reason: 'Usaha tidak ditemukan',
          decidedBy: decidedByOf('a@b.example'),
          at: '2026-01-10T00:00:00Z',
        },
      }),
    );
    await expect(invoke(close, { caseId: '3210-2020-abcdef0123456789abcd', outcome: 'rejected' })).resolves.toEqual({
      outcome: 'rejected',
    });
    expect(setValues()).toContainEqual({
      id: 'Ditolak pemberi persetujuan (USAHA_TIDAK_ADA): Usaha tidak ditemukan',
      en: 'Rejected by the approver (USAHA_TIDAK_ADA): Usaha tidak ditemukan',
    });
    expect(caseWrites(ddb)[0]!.ExpressionAttributeValues?.[':newStage']).toBe('closed');
  });

  it("closes a case the national ceiling refused with that reason, not the district quota's", async () => {
    given(
      makeCase({
        stage: 'grant-approval',
        grantApproval: {
          decision: 'approved',
          level: 'directorate',
          decidedBy: decidedByOf('a@b.example'),
          at: '2026-01-10T00:00:00Z',
          quota: 'national-ceiling',
        },
      }),
    );
    await invoke(close, { caseId: '3210-2020-abcdef0123456789abcd', outcome: 'quota-exhausted' });
    expect(setValues()).toContainEqual({
      id: 'Batas nasional bantuan untuk tahun program sudah tercapai (kuota wilayah masih tersisa)',
      en: "The program year's national grant ceiling is reached (the district still had quota)",
    });
  });

  it('closes an ineligible case with the failed verification lines only', async () => {
    given(
      makeCase({
        verification: {
          eligible: false,
          reasons: ['OVER_AGE_LIMIT'],
          ruleVersion: '2020.1',
          at: 'x',
          explanation: [
            { id: '✓ ok', en: '✓ ok' },
            { id: '✗ Usia 45', en: '✗ Age 45' },
          ],
        },
      }),
    );
    await invoke(close, { caseId: '3210-2020-abcdef0123456789abcd', outcome: 'ineligible' });
    expect(setValues()).toContainEqual({ id: '✗ Usia 45', en: '✗ Age 45' });
  });

  it('does nothing to a case that is already closed (a duplicate run)', async () => {
    given(makeCase({ stage: 'closed', outcome: 'graduated' }));
    await expect(invoke(close, { caseId: '3210-2020-abcdef0123456789abcd', outcome: 'rejected' })).resolves.toEqual({
      outcome: 'graduated',
    });
    expect(caseWrites(ddb)).toHaveLength(0);
  });

  it('refuses an outcome that is not one of the defined ways a journey ends', async () => {
    await expect(invoke(close, { caseId: 'x', outcome: 'lost' })).rejects.toMatchObject({ name: 'ZodError' });
  });
});

describe('Grading', () => {
  it('throws MentoringIncompleteError when every milestone was missed', async () => {
    const at = '2026-02-01T00:00:00Z';
    given(
      makeCase({
        stage: 'mentoring',
        milestones: {
          'pemisahan-keuangan': { status: 'missed', at },
          'kemasan-merek': { status: 'missed', at },
          'pemasaran-daring': { status: 'missed', at },
        },
      }),
    );
    await expect(invoke(grading, { caseId: '3210-2020-abcdef0123456789abcd' })).rejects.toMatchObject({
      name: 'MentoringIncompleteError',
    });
  });

  it('records the grade with its reason and rule version and moves to financing referral', async () => {
    const at = '2026-02-01T00:00:00Z';
    given(
      makeCase({
        stage: 'mentoring',
        milestones: {
          'pemisahan-keuangan': {
            status: 'reported',
            at,
            report: {
              businessRunning: true,
              monthlyRevenue: 1_600_000,
              practices: ['separatesBusinessMoney', 'sellsOnline'],
              notes: '',
            },
          },
        },
      }),
    );
    await expect(invoke(grading, { caseId: '3210-2020-abcdef0123456789abcd' })).resolves.toEqual({ grade: 'berkembang' });
    expect(setValues()).toContainEqual(expect.objectContaining({ grade: 'berkembang', ruleVersion: '2020.1' }));
  });
});

describe('RecordFailure', () => {
  it('notes the failure on the case without moving its stage, so a restart continues there', async () => {
    given(makeCase({ stage: 'mentoring' }));
    await invoke(recordFailure, { caseId: '3210-2020-abcdef0123456789abcd', error: 'Error', cause: 'x'.repeat(5000) });
    const input = caseWrites(ddb)[0]!;
    expect(input.ExpressionAttributeValues?.[':newStage']).toBeUndefined();
    const failure = setValues().find((v) => typeof v === 'object' && v !== null && 'error' in v) as { cause: string };
    expect(failure.cause).toHaveLength(1000);
  });

  it('surfaces a stage conflict when the case was closed meanwhile', async () => {
    const c = makeCase({ stage: 'mentoring' });
    // The store reads the case at mentoring; Close lands; the write finds the case changed and reads it closed.
    ddb
      .on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } })
      .resolvesOnce({ Item: caseItem({ ...c, rev: 3 }) })
      .resolves({ Item: caseItem({ ...c, stage: 'closed', outcome: 'graduated', rev: 4 }) });
    answerCaseWrites(ddb, c.caseId, 1);
    await expect(invoke(recordFailure, { caseId: '3210-2020-abcdef0123456789abcd', error: 'E' })).rejects.toMatchObject({
      name: 'StageConflictError',
    });
    expect(caseWrites(ddb)).toHaveLength(1);
  });
});
