/**
 * The embedded runtime's public face: what the CLI, the demo, the bench and the tests use.
 * Its own file so they import one path while the parts stay in their own files.
 */
export { dataPaths, EndpointsFile, loadOrCreateSecret } from './data-dir.ts';
export {
  type Endpoints,
  INTAKE_MACHINE,
  JOURNEY_MACHINE,
  LOCAL_ACCOUNT,
  LOCAL_NAME,
  SECRET_ID,
  setEnvironment,
} from './environment.ts';
export { listAllExecutions, RESTART_CAUSE, resumeIntakes, startIntake } from './executions.ts';
export { type FunctionId, functionArn } from './handlers.ts';
export { type Runtime, type RuntimeOptions, startRuntime } from './start.ts';
export { confirmIntake, putProposal, UploadError, type UploadOptions } from './upload.ts';
