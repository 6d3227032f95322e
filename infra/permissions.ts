/**
 * What each Lambda function may do, read from its handler: the entry file in functions/
 * and the domain modules it calls (store/ for cases, claims, registry and quota;
 * requests/ for requests and decisions; lib/mail.ts for SES; lib/secrets.ts for the
 * program secret). A call a function does not make is not granted; adding one to a handler means
 * adding it here, and the README's permission table says the same in prose.
 *
 * Item kinds (partition keys, functions/lib/table.ts header): CASE#, NIK# / KK# (identity
 * claims), REGISTRY#, REQUEST#, QUOTA#, UPLOAD# (an upload's summary email), CHECK# (the
 * upload page's checks). No function queries the `byDistrictStage` index (operators do, with
 * their own credentials); the pages query `byUploadStage` for an upload's families per stage.
 */

import { CHECKS, INTAKE_OUTPUTS, PROPOSAL_WILDCARD } from '#intake/bucket-layout';
import { BY_UPLOAD_STAGE } from '#lib/table-schema';
import type { TableAccess } from './constructs/data-access.ts';
import type { FunctionId } from './functions.ts';

export const CASE = 'CASE#*';
export const NIK_CLAIM = 'NIK#*';
export const KK_CLAIM = 'KK#*';
export const REGISTRY = 'REGISTRY#*';
export const REQUEST = 'REQUEST#*';
export const QUOTA = 'QUOTA#*';
export const UPLOAD = 'UPLOAD#*';
export const CHECK = 'CHECK#*';

/** Objects ReadProposal reads: the uploads (the intake only runs it for keys under proposals/). */
export const UPLOADS = PROPOSAL_WILDCARD;

export interface FunctionPermissions {
  /** DynamoDB item access, by action and item kind. */
  readonly table: readonly TableAccess[];
  /** S3 objects, by key pattern: read (GetObject, HEAD), write (PutObject, the target of a CopyObject), delete; list: ListObjectsV2 prefixes. */
  readonly bucket?: {
    readonly read: readonly string[];
    readonly write: readonly string[];
    readonly delete?: readonly string[];
    readonly list?: readonly string[];
  };
  /** SES: send as the sender identity. */
  readonly sendsMail?: boolean;
  /** Step Functions: SendTaskSuccess / SendTaskFailure to the journey's waiting tasks. */
  readonly answersTasks?: boolean;
}

/** getCase, then one conditional updateCase (which reads the case again when it lost a race). */
const readAndUpdateCase: TableAccess = { actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE] };

// Every function also reads the program secret (secretsmanager:GetSecretValue): the task
// handler and the pages load the keys at cold start. That grant is in the stack.
/**
 * reserveGrant's hold on the family's one grant (store/grants.ts): a conditional
 * UpdateItem of `KK#<hash>` / `GRANT`, its read on a lost race. An item of the family
 * card's partition.
 */
const familyGrantHold: TableAccess = { actions: ['GetItem', 'UpdateItem'], leadingKeys: [KK_CLAIM] };

export const FUNCTION_PERMISSIONS: Record<FunctionId, FunctionPermissions> = {
  LoadCase: { table: [readAndUpdateCase] },
  Verification: {
    table: [
      { actions: ['GetItem'], leadingKeys: [CASE, REGISTRY] },
      { actions: ['UpdateItem'], leadingKeys: [CASE] },
    ],
  },
  OpenRequest: {
    table: [
      // getCase, findRequest; updateCase (missed deadline), markExpired, markReminded
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE, REQUEST] },
      // openRequest: conditional put of a new request
      { actions: ['PutItem'], leadingKeys: [REQUEST] },
    ],
    sendsMail: true,
  },
  AwaitRequest: {
    table: [
      // attachTaskToken; completeDecision: getCase, updateCase, and for an approval
      // reserveGrant (an UpdateItem on the quota, re-read on a lost race)
      { actions: ['UpdateItem'], leadingKeys: [CASE, REQUEST, QUOTA] },
      { actions: ['GetItem'], leadingKeys: [CASE, QUOTA] },
      familyGrantHold,
    ],
    answersTasks: true,
  },
  Disbursement: {
    // getCase, reserveGrant (an UpdateItem, re-read on a lost race), updateCase
    table: [{ actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE, QUOTA] }, familyGrantHold],
  },
  PlanMentoring: { table: [{ actions: ['GetItem'], leadingKeys: [CASE] }] },
  Grading: { table: [readAndUpdateCase] },
  FinancingReferral: { table: [readAndUpdateCase] },
  Close: { table: [readAndUpdateCase] },
  RecordFailure: { table: [readAndUpdateCase] },
  ReadProposal: {
    table: [
      // claimIdentity: the family's claims of every year (Query), then one conditional put;
      // releaseClaim: a claim given back when the family's other identity was taken, or its case refused
      { actions: ['Query', 'PutItem', 'DeleteItem'], leadingKeys: [NIK_CLAIM, KK_CLAIM] },
      // caseStanding: where the case of an earlier claim stands; createCase: conditional put
      { actions: ['GetItem', 'PutItem'], leadingKeys: [CASE] },
      // sendSummaryOnce: the lease and the record of the upload's summary email
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [UPLOAD] },
    ],
    bucket: { read: [UPLOADS], write: [...INTAKE_OUTPUTS] },
    sendsMail: true,
  },
  Pages: {
    // findRequest, recordDecision; loadContext and completeDecision: getCase, updateCase,
    // and for an approval reserveGrant (an UpdateItem on the quota, re-read on a lost race)
    table: [
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE, REQUEST, QUOTA] },
      familyGrantHold,
      // The officers' upload page (store/checks.ts): createCheck, findCheck, the submit lease and its records
      { actions: ['GetItem', 'PutItem', 'UpdateItem'], leadingKeys: [CHECK] },
      // uploadProgress: an upload's families per stage, from the upload index (keys and outcome only)
      { actions: ['Query'], leadingKeys: [UPLOAD], index: BY_UPLOAD_STAGE.indexName },
    ],
    bucket: {
      // the check's file (the dry run), the uploads (HEAD, the copy's source metadata) and their reports
      read: [CHECKS, UPLOADS],
      // the presigned POST is signed with the function's role: it may only write what the role may;
      // submit copies the checked file to proposals/<district>/<file>
      write: [CHECKS, UPLOADS],
      // a submitted or discarded check's file
      delete: [CHECKS],
      // a district's uploads, newest first (officers/files.ts listUploads)
      list: [PROPOSAL_WILDCARD],
    },
    answersTasks: true,
  },
};
