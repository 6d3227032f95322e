/** The catalogue of Lambda functions the stack deploys: one per entry file in functions/, the state machines' tasks and the pages. */
import { WORKFLOW_FUNCTIONS } from '../workflows/functions.ts';

/** One Lambda function per entry file in functions/: the state machines' tasks, and the pages. */
export const FUNCTIONS = {
  ...WORKFLOW_FUNCTIONS,
  Pages: { file: 'pages.ts', description: 'Approval, report and referral pages behind the HTTP API' },
} as const;
export type FunctionId = keyof typeof FUNCTIONS;
