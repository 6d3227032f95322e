/** The catalogue of Lambda functions the stack deploys: one per entry file in functions/, the state machines' tasks, the pages and their authorizer. */
import { WORKFLOW_FUNCTIONS } from '../workflows/functions.ts';

/** One Lambda function per entry file in functions/: the state machines' tasks, the pages and the pages' session gate. */
export const FUNCTIONS = {
  ...WORKFLOW_FUNCTIONS,
  Pages: { file: 'pages.ts', description: 'Approval, report and referral pages behind the HTTP API' },
  Console: { file: 'console.ts', description: "Operators' console: funnel, cases, executions, resuming a failed journey" },
  Authorize: { file: 'authorize.ts', description: "Pages: the HTTP API's authorizer, a live session for every person's route" },
} as const;
export type FunctionId = keyof typeof FUNCTIONS;
