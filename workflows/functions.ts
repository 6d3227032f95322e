/**
 * The Lambda functions the state machines call. The id is the stage's name and
 * `${<id>FunctionArn}` its placeholder in the ASL files; `file` is its entry in
 * functions/. The CDK app, the embedded runtime and the workflow tests all read this one
 * list, so a new task state is declared once.
 */
export const WORKFLOW_FUNCTIONS = {
  LoadCase: { machine: 'journey', file: 'load-case.ts', description: 'Journey: register the run on the case, return its stage' },
  Verification: { machine: 'journey', file: 'verification.ts', description: 'Journey: PKH registry and program rules' },
  OpenRequest: {
    machine: 'journey',
    file: 'open-request.ts',
    description: 'Journey: email an approval, report or referral link',
  },
  AwaitRequest: {
    machine: 'journey',
    file: 'await-request.ts',
    description: 'Journey: keep the task token of a waiting request',
  },
  Disbursement: { machine: 'journey', file: 'disbursement.ts', description: 'Journey: record the BSiMU grant against the quota' },
  PlanMentoring: { machine: 'journey', file: 'plan-mentoring.ts', description: 'Journey: pending mentoring milestones' },
  Grading: { machine: 'journey', file: 'grading.ts', description: 'Journey: grade pemula / berkembang / maju' },
  FinancingReferral: { machine: 'journey', file: 'financing-referral.ts', description: 'Journey: choose the financing scheme' },
  Close: { machine: 'journey', file: 'close.ts', description: 'Journey: close the case with its outcome' },
  RecordFailure: {
    machine: 'journey',
    file: 'record-failure.ts',
    description: 'Journey: record an unexpected error on the case',
  },
  ReadProposal: { machine: 'intake', file: 'read-proposal.ts', description: 'Intake: check a proposal file, register families' },
} as const;

export type WorkflowFunctionId = keyof typeof WORKFLOW_FUNCTIONS;
export type Machine = (typeof WORKFLOW_FUNCTIONS)[WorkflowFunctionId]['machine'];

export const WORKFLOW_FUNCTION_IDS = Object.keys(WORKFLOW_FUNCTIONS) as WorkflowFunctionId[];

export function functionsOf(machine: Machine): WorkflowFunctionId[] {
  return WORKFLOW_FUNCTION_IDS.filter((id) => WORKFLOW_FUNCTIONS[id].machine === machine);
}
