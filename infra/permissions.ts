/**
 * What each Lambda function may do, read from its handler: the entry file in functions/
 * and the domain modules it calls (store/ for cases, claims, registry and quota;
 * requests/ for requests and decisions; lib/mail.ts for SES; lib/secrets.ts for the
 * program secret). A call a function does not make is not granted; adding one to a handler means
 * adding it here, and the README's permission table says the same in prose.
 *
 * Item kinds (partition keys, functions/lib/table.ts header): CASE#, NIK# / KK# (identity
 * claims), REGISTRY#, REQUEST#, QUOTA#, UPLOAD# (an upload's summary email), SESSION# and
 * SIGNIN# (store/sessions.ts: who is signed in, a sign-in under way), CHECK# (the upload
 * page's checks), FUNNEL# (a district's funnel counters). Only the console queries the
 * `byDistrictStage` index; the pages query `byUploadStage` for an upload's families per stage.
 */

import { CHECKS, INTAKE_OUTPUTS, PROPOSAL_WILDCARD, PROPOSALS_PREFIX, REPORT_SUFFIXES } from '#intake/bucket-layout';
import { BY_DISTRICT_STAGE, BY_UPLOAD_STAGE } from '#lib/table-schema';
import type { TableAccess } from './constructs/data-access.ts';
import type { FunctionId } from './functions.ts';

export const CASE = 'CASE#*';
export const NIK_CLAIM = 'NIK#*';
export const KK_CLAIM = 'KK#*';
export const REGISTRY = 'REGISTRY#*';
export const REQUEST = 'REQUEST#*';
export const QUOTA = 'QUOTA#*';
export const UPLOAD = 'UPLOAD#*';
export const SESSION = 'SESSION#*';
export const SIGNIN = 'SIGNIN#*';
export const CHECK = 'CHECK#*';
export const FUNNEL = 'FUNNEL#*';
export const DISTRICT = 'DISTRICT#*';

/** Objects ReadProposal reads: the uploads (the intake only runs it for keys under proposals/). */
export const UPLOADS = PROPOSAL_WILDCARD;

/**
 * Where an officer's browser puts a file for the pages to check before it is submitted
 * (a presigned POST, functions/intake/bucket-layout.ts); the bucket expires what is left
 * there after a day.
 */
export { CHECKS };

export interface FunctionPermissions {
  /** DynamoDB item access, by action and item kind. */
  readonly table: readonly TableAccess[];
  /** S3 objects, by key pattern (`delete`: DeleteObject), and listings, by key prefix (ListBucket with `s3:prefix`). */
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
  /**
   * Step Functions, the operators' console: read both state machines' executions (list,
   * describe, history, the definition they ran) and start journeys (a resume).
   */
  readsExecutions?: boolean;
  /**
   * Secrets Manager: GetSecretValue on the program secret, which the task handler and the
   * pages load at cold start (NIK hashing, sealing, link signatures).
   */
  readonly readsSecret: boolean;
}

/**
 * Every case write that changes the funnel adds to the district's counter item in the same
 * TransactWriteItems (store/cases.ts), which IAM authorizes as an UpdateItem of that item.
 */
const funnelCount: TableAccess = { actions: ['UpdateItem'], leadingKeys: [FUNNEL] };

/**
 * getCase, then one conditional updateCase (which reads the case again when it lost a race),
 * and its funnel count (an UpdateItem only: no function reads a counter item but the console).
 */
const readAndUpdateCase: readonly TableAccess[] = [{ actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE] }, funnelCount];

/**
 * reserveGrant's hold on the family's one grant (store/grants.ts): a conditional
 * UpdateItem of `KK#<hash>` / `GRANT`, its read on a lost race. An item of the family
 * card's partition.
 */
const familyGrantHold: TableAccess = { actions: ['GetItem', 'UpdateItem'], leadingKeys: [KK_CLAIM] };

export const FUNCTION_PERMISSIONS: Record<FunctionId, FunctionPermissions> = {
  LoadCase: { table: readAndUpdateCase, readsSecret: true },
  Verification: {
    table: [
      { actions: ['GetItem'], leadingKeys: [CASE, REGISTRY] },
      { actions: ['UpdateItem'], leadingKeys: [CASE] },
      funnelCount,
    ],
    readsSecret: true,
  },
  OpenRequest: {
    table: [
      // getCase, findRequest; updateCase (missed deadline), markExpired, markReminded
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE, REQUEST] },
      // openRequest: conditional put of a new request
      { actions: ['PutItem'], leadingKeys: [REQUEST] },
      funnelCount,
    ],
    sendsMail: true,
    readsSecret: true,
  },
  AwaitRequest: {
    table: [
      // attachTaskToken; completeDecision: getCase, updateCase, and for an approval
      // reserveGrant (an UpdateItem on the quota, re-read on a lost race)
      { actions: ['UpdateItem'], leadingKeys: [CASE, REQUEST, QUOTA] },
      { actions: ['GetItem'], leadingKeys: [CASE, QUOTA] },
      familyGrantHold,
      funnelCount,
    ],
    answersTasks: true,
    readsSecret: true,
  },
  Disbursement: {
    // getCase, reserveGrant (an UpdateItem, re-read on a lost race), updateCase
    table: [{ actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE, QUOTA] }, familyGrantHold, funnelCount],
    readsSecret: true,
  },
  PlanMentoring: { table: [{ actions: ['GetItem'], leadingKeys: [CASE] }], readsSecret: true },
  Grading: { table: readAndUpdateCase, readsSecret: true },
  FinancingReferral: { table: readAndUpdateCase, readsSecret: true },
  Close: { table: readAndUpdateCase, readsSecret: true },
  RecordFailure: { table: readAndUpdateCase, readsSecret: true },
  ReadProposal: {
    table: [
      // claimIdentity: the family's claims of every year (Query), then one conditional put;
      // releaseClaim: a claim given back when the family's other identity was taken, or its case refused
      { actions: ['Query', 'PutItem', 'DeleteItem'], leadingKeys: [NIK_CLAIM, KK_CLAIM] },
      // caseStanding: where the case of an earlier claim stands; createCase: conditional put
      { actions: ['GetItem', 'PutItem'], leadingKeys: [CASE] },
      funnelCount,
      // sendSummaryOnce: the lease and the record of the upload's summary email
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [UPLOAD] },
    ],
    bucket: { read: [UPLOADS], write: [...INTAKE_OUTPUTS] },
    sendsMail: true,
    readsSecret: true,
  },
  Pages: {
    table: [
      // findRequest, recordDecision; loadContext and completeDecision: getCase, updateCase,
      // and for an approval reserveGrant (an UpdateItem on the quota, re-read on a lost race)
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE, REQUEST, QUOTA] },
      familyGrantHold,
      funnelCount,
      // createSession (conditional put), findSession, endSession at sign-out
      { actions: ['GetItem', 'PutItem', 'DeleteItem'], leadingKeys: [SESSION] },
      // savePendingSignIn (conditional put); takePendingSignIn takes it once (conditional delete)
      { actions: ['PutItem', 'DeleteItem'], leadingKeys: [SIGNIN] },
      // The officers' upload page (store/checks.ts): createCheck, findCheck, the submit lease and its records
      { actions: ['GetItem', 'PutItem', 'UpdateItem'], leadingKeys: [CHECK] },
      // uploadProgress: an upload's families per stage, from the upload index (keys and outcome only)
      { actions: ['Query'], leadingKeys: [UPLOAD], index: BY_UPLOAD_STAGE.indexName },
    ],
    bucket: {
      // The officers' uploads: the browser POSTs the file under checks/ with a presigned POST
      // the pages sign (PutObject), the pages read and check it, and on submit copy it to
      // proposals/ (GetObject of the check, PutObject of the upload; GetObject there too, to
      // find an upload already submitted), then delete the check. The officer downloads the
      // intake's report (proposals/*.report.csv, within proposals/*), and the upload pages
      // list a district's uploads.
      read: [CHECKS, PROPOSAL_WILDCARD],
      write: [CHECKS, PROPOSAL_WILDCARD],
      delete: [CHECKS],
      list: [PROPOSALS_PREFIX],
    },
    answersTasks: true,
    readsSecret: true,
  },
  Console: {
    table: [
      // readFunnel: one Query of FUNNEL#<year>; the case page: getCase; the resume: updateCase
      // (a write of `resumes`, which changes no counter, but a case write may count)
      { actions: ['Query', 'UpdateItem'], leadingKeys: [FUNNEL] },
      { actions: ['GetItem', 'UpdateItem'], leadingKeys: [CASE] },
      // The NIK search: the claims of one keyed hash
      { actions: ['Query'], leadingKeys: [NIK_CLAIM] },
      // The case list: a district and year, by stage
      { actions: ['Query'], leadingKeys: [DISTRICT], index: BY_DISTRICT_STAGE.indexName },
      // findSession: the operator's session
      { actions: ['GetItem'], leadingKeys: [SESSION] },
    ],
    // The intakes list: each intake's report, next to its upload (proposals/*.report.csv); nothing else of the bucket.
    bucket: { read: [`${PROPOSAL_WILDCARD}${REPORT_SUFFIXES[0]}`], write: [] },
    readsExecutions: true,
    readsSecret: true,
  },
  Authorize: {
    // findSession: is the cookie's session there and not over. Nothing else: no keys, no cases.
    table: [{ actions: ['GetItem'], leadingKeys: [SESSION] }],
    readsSecret: false,
  },
};
