/**
 * The console's one action: resume a failed journey. A new execution `<caseId>-r<n>`
 * continues from the case's stage (LoadCase → RouteByStage), as a restart does; the
 * operator who asked is recorded on the case before it starts, so the decision names
 * them, and a second click, a second operator or a crash between the two writes starts
 * at most one execution: the resume is recorded once per failure (conditional on the case
 * as read), and the execution's name comes from that record, so starting it again
 * answers ExecutionAlreadyExists.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type Case, journeyName, type Resume } from '#domain/case';
import { CaseNotFoundError, StageConflictError } from '#domain/errors';
import type { DecidedBy } from '#domain/person';
import { sfn } from '#lib/clients/sfn';
import { getCase, updateCase } from '#store/cases';
import { journeyExecutions, machineArn } from './executions.ts';

export type ResumeAnswer =
  | { kind: 'started'; resume: Resume }
  /** Someone (maybe this operator, a click ago) resumed this failure already. */
  | { kind: 'already'; resume: Resume }
  | { kind: 'refused'; code: 'CASE_NOT_FOUND' | 'CASE_CLOSED' | 'NOT_FAILED' | 'JOURNEY_RUNNING' };

const ATTEMPTS = 3;

const runOf = (name: string, caseId: string) => (name === caseId ? 1 : Number(/-r(\d+)$/.exec(name)?.[1] ?? 0));

export async function resumeJourney(caseId: string, by: DecidedBy, now = new Date()): Promise<ResumeAnswer> {
  for (let attempt = 1; ; attempt++) {
    let c: Case;
    try {
      c = await getCase(caseId);
    } catch (e) {
      if (e instanceof CaseNotFoundError) return { kind: 'refused', code: 'CASE_NOT_FOUND' };
      throw e;
    }
    if (c.stage === 'closed') return { kind: 'refused', code: 'CASE_CLOSED' };
    const last = c.resumes?.at(-1);
    if (!c.failure) {
      // The resumed run has started and cleared the failure: the same click again.
      return last ? { kind: 'already', resume: last } : { kind: 'refused', code: 'NOT_FAILED' };
    }
    const failure = c.failure;
    const recorded = c.resumes?.find((r) => r.failure.at === failure.at);
    if (recorded) return { kind: (await start(caseId, recorded)) ? 'started' : 'already', resume: recorded };
    const executions = await journeyExecutions(caseId, c.journeyRuns);
    if (executions.some((e) => e.status === 'RUNNING')) return { kind: 'refused', code: 'JOURNEY_RUNNING' };
    const nextRun = Math.max(0, ...executions.map((e) => runOf(e.name ?? '', caseId))) + 1;
    const resume: Resume = {
      decidedBy: by,
      at: now.toISOString(),
      execution: journeyName(caseId, nextRun),
      failure: { error: failure.error, at: failure.at },
    };
    try {
      await updateCase(caseId, {
        expectStage: c.stage,
        set: { resumes: [...(c.resumes ?? []), resume] },
        unchangedSince: c.updatedAt,
      });
    } catch (e) {
      // Written meanwhile (another operator's resume, the failure being recorded): read again.
      if (e instanceof StageConflictError && attempt < ATTEMPTS) continue;
      throw e;
    }
    await start(caseId, resume);
    return { kind: 'started', resume };
  }
}

/** Starts the recorded execution; false when it had started already (the name is taken). */
async function start(caseId: string, resume: Resume): Promise<boolean> {
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('journey'),
        name: resume.execution,
        input: JSON.stringify({ caseId }),
      }),
    );
    return true;
  } catch (e) {
    if ((e as { name?: string })?.name === 'ExecutionAlreadyExists') return false;
    throw e;
  }
}
