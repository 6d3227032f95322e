/**
 * The embedded runtime: the same state machines and handler modules as the CDK app, run
 * in one Node process against local stand-ins (dynalite, s3rver, the embedded Step
 * Functions engine, an outbox of .eml files, the pages behind a local HTTP server).
 *
 * Handlers read their endpoints from the standard AWS_ENDPOINT_URL_* variables when
 * their SDK clients first resolve them, and clients live at module scope. So: the
 * services start first, then the environment is set, then the handler modules are
 * imported. It follows that one process holds one runtime at a time, and that a
 * runtime restarted in the same process must come back on the same ports.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { journeyName } from '#domain/case';
import { WORKFLOW_FUNCTION_IDS, WORKFLOW_FUNCTIONS, type WorkflowFunctionId } from '../workflows/functions.ts';
import type { Engine, ExecutionRecord, LambdaHandler } from './engine.ts';
import { lambdaContext, type PagesHandler, type PagesServer, startPagesServer } from './pages-server.ts';
import {
  ensureTable,
  intakeExecutionName,
  isPortFree,
  isProposalUpload,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalService,
  localS3Client,
  type ObjectCreated,
  startDynamo,
  startS3,
} from './services.ts';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_NAME = 'prokus-local';
export const SECRET_ID = 'prokus-local/secret';
export const JOURNEY_MACHINE = 'prokus-journey';
export const INTAKE_MACHINE = 'prokus-intake';
/** The cause the engine records on executions a previous process left RUNNING. */
export const RESTART_CAUSE = 'embedded runtime restarted';

export type FunctionId = WorkflowFunctionId;
const moduleName = (id: FunctionId) => WORKFLOW_FUNCTIONS[id].file.replace(/\.ts$/, '');

export const functionArn = (id: FunctionId) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:prokus-${moduleName(id)}`;

const root = new URL('..', import.meta.url);

export interface RuntimeOptions {
  dataDir: string;
  /** Pages server port. 0 = any free port; omitted = the port this data dir used last (links in sent mail point there), else a free one. */
  port?: number;
  /** A folder of program configuration files (PROKUS_PROGRAMS_DIR) next to the bundled ones. */
  programsDir?: string;
  logFile?: string;
  /** No notices on stderr (the runtime never writes to stdout). */
  quiet?: boolean;
  /** Replace handler modules (tests). */
  handlers?: Partial<Record<FunctionId, LambdaHandler>>;
  pagesHandler?: PagesHandler;
}

export interface Endpoints {
  dynamodb: string;
  s3: string;
  sfn: string;
  pages: string;
}

/** What `<data>/endpoints.json` holds while a runtime runs; `prokus upload` and `prokus registry import` read it. */
export const EndpointsFile = z.object({
  pid: z.number().int(),
  dataDir: z.string(),
  region: z.string(),
  bucket: z.string(),
  table: z.string(),
  secretId: z.string(),
  endpoints: z.object({ dynamodb: z.string(), s3: z.string(), sfn: z.string(), pages: z.string() }),
  journeyArn: z.string(),
  intakeArn: z.string(),
  startedAt: z.string(),
});
export type EndpointsFile = z.infer<typeof EndpointsFile>;

export interface UploadOptions {
  district: string;
  programYear?: number;
  uploader?: string;
  /** Object name under `proposals/<district>/`; the file's own name by default. */
  name?: string;
}

export interface Runtime {
  dataDir: string;
  outboxDir: string;
  bucket: string;
  table: string;
  endpoints: Endpoints;
  engine: Engine;
  journeyArn: string;
  intakeArn: string;
  /** What start-up restarted after the previous process ended. */
  resumed: { journeys: number; intakes: number };
  upload(file: string, opts: UploadOptions): Promise<{ key: string }>;
  /** Resolves when every running execution waits for a person (a task token), or none runs. */
  idle(opts?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

// ---- files in the data dir ----

export const dataPaths = (dataDir: string) => ({
  secret: join(dataDir, 'secret'),
  endpoints: join(dataDir, 'endpoints.json'),
  ports: join(dataDir, 'ports.json'),
  dynamodb: join(dataDir, 'dynamodb'),
  s3: join(dataDir, 's3'),
  sfn: join(dataDir, 'sfn'),
  outbox: join(dataDir, 'outbox'),
  log: join(dataDir, 'logs', 'prokus.log'),
});

/**
 * The program secret signs links and keys the NIK hashes: it must outlive restarts,
 * or every link already emailed stops working and known families look new.
 */
export async function loadOrCreateSecret(file: string): Promise<string> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length >= 32) return secret;
    throw new Error(`${file} holds a secret shorter than 32 characters; restore the original file`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return secret;
}

const Ports = z.object({ dynamodb: z.number(), s3: z.number(), sfn: z.number(), pages: z.number() }).partial();
type Ports = z.infer<typeof Ports>;

async function readPorts(file: string): Promise<Ports> {
  try {
    return Ports.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return {};
  }
}

const portOf = (url: string) => Number(new URL(url).port);

/**
 * Listens on the preferred port when it is free, else on any free port. dynalite opens
 * its store before it listens, so a port is probed first rather than tried.
 */
async function onPreferredPort<T>(preferred: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (preferred && (await isPortFree(preferred))) {
    try {
      return await start(preferred);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  return start(0);
}

/** Ports of the runtime this process ran last: its handler modules' SDK clients still point there. */
let processPorts: Ports | undefined;
let running = false;

// ---- environment ----

export function setEnvironment(opts: { endpoints: Endpoints; log: string; programsDir?: string }): void {
  const env = process.env;
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  env.AWS_REGION = LOCAL_REGION;
  env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  // A session token or profile from the operator's shell must not leak into local calls.
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  delete env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  env.AWS_ENDPOINT_URL_DYNAMODB = opts.endpoints.dynamodb;
  env.AWS_ENDPOINT_URL_S3 = opts.endpoints.s3;
  env.AWS_ENDPOINT_URL_SFN = opts.endpoints.sfn;
  env.AWS_ENDPOINT_URL_SESV2 = opts.endpoints.sfn;
  env.AWS_ENDPOINT_URL_SECRETS_MANAGER = opts.endpoints.sfn;
  env.TABLE_NAME = LOCAL_NAME;
  env.BUCKET_NAME = LOCAL_NAME;
  env.SECRET_ID = SECRET_ID;
  env.MAIL_FROM = 'prokus@kemensos.example';
  env.APPROVER_EMAIL = 'approver@dinsos.example';
  env.PAGES_URL = opts.endpoints.pages;
  env.LOG_LEVEL ??= 'info';
  env.PROKUS_LOG_FILE = opts.log;
  // No X-Ray daemon here (Powertools Tracer is off outside Lambda anyway).
  env.POWERTOOLS_TRACE_ENABLED = 'false';
  if (opts.programsDir) env.PROKUS_PROGRAMS_DIR = resolve(opts.programsDir);
}

// ---- handler modules ----

const HandlerModule = z.object({
  handler: z.custom<(event: unknown, context: Context) => Promise<unknown>>((v) => typeof v === 'function', {
    message: 'exports no `handler` function',
  }),
});

async function importHandler(file: string): Promise<(event: unknown, context: Context) => Promise<unknown>> {
  let mod: unknown;
  try {
    mod = await import(new URL(file, root).href);
  } catch (e) {
    throw new Error(`embedded runtime: cannot load handler module ${file}: ${(e as Error).message}`, { cause: e });
  }
  const parsed = HandlerModule.safeParse(mod);
  if (!parsed.success) throw new Error(`embedded runtime: handler module ${file} exports no \`handler\` function`);
  return parsed.data.handler;
}

/**
 * Lambda, when one execution environment runs invocations concurrently (managed
 * instances), runs each inside its own InvokeStore context, and Powertools keeps there
 * what belongs to one invocation: the keys on its log lines (the case id), its Lambda
 * context, the metrics it counted. The engine runs many handlers at once in this
 * process, so it does the same; otherwise one family's case id lands on another's lines.
 * Called before this process makes any SDK call (the SDK creates the store on its first).
 */
async function invocationScope() {
  // Only its presence is read: it selects the concurrent store.
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '32';
  const store = await InvokeStore.getInstanceAsync(true);
  return <E, C extends { awsRequestId: string }, R>(handler: (event: E, ctx: C) => Promise<R>) =>
    (event: E, ctx: C): Promise<R> =>
      store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: ctx.awsRequestId }, () => handler(event, ctx));
}
type InvocationScope = Awaited<ReturnType<typeof invocationScope>>;

async function loadFunctions(
  scoped: InvocationScope,
  overrides: RuntimeOptions['handlers'] = {},
): Promise<Map<FunctionId, LambdaHandler>> {
  const loaded = new Map<FunctionId, LambdaHandler>();
  for (const id of WORKFLOW_FUNCTION_IDS) {
    const override = overrides[id];
    if (override) {
      loaded.set(id, scoped(override));
      continue;
    }
    const handler = await importHandler(`functions/${WORKFLOW_FUNCTIONS[id].file}`);
    // The engine's context has what its tasks need; handlers are typed for the full Lambda one.
    loaded.set(
      id,
      scoped((event, ctx) => handler(event, lambdaContext(ctx.functionName, ctx.getRemainingTimeInMillis(), ctx.awsRequestId))),
    );
  }
  return loaded;
}

function substitutions(journeyArn?: string): Record<string, string> {
  const subs: Record<string, string> = {};
  for (const id of WORKFLOW_FUNCTION_IDS) subs[`${id}FunctionArn`] = functionArn(id);
  if (journeyArn) subs.JourneyStateMachineArn = journeyArn;
  return subs;
}

// ---- executions ----

export function listAllExecutions(engine: Engine, stateMachineArn: string, statusFilter?: string): ExecutionRecord[] {
  const all: ExecutionRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = engine.listExecutions({ stateMachineArn, statusFilter, maxResults: 1000, nextToken });
    all.push(...page.executions);
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

const isAlreadyExists = (e: unknown) => (e as { name?: string })?.name === 'ExecutionAlreadyExists';

/** `<base>` is run 1, `<base>-r<n>` run n. */
function runOf(name: string, base: string): number | undefined {
  if (name === base) return 1;
  const m = /^-r(\d+)$/.exec(name.slice(base.length));
  return name.startsWith(base) && m ? Number(m[1]) : undefined;
}

const baseOf = (name: string) => name.replace(/-r\d+$/, '');

async function openCaseIds(dynamo: DynamoDBDocumentClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#sk = :case AND #stage <> :closed',
        ProjectionExpression: 'caseId',
        ExpressionAttributeNames: { '#sk': 'sk', '#stage': 'stage' },
        ExpressionAttributeValues: { ':case': 'CASE', ':closed': 'closed' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const caseId = (item as { caseId?: unknown }).caseId;
      if (typeof caseId === 'string') ids.push(caseId);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return ids;
}

/**
 * Principle 1: the case is the truth. Every case not closed that no journey is running
 * for gets a new run; it continues from the case's stage. Names already used (by any
 * status) are skipped, as Step Functions refuses them.
 */
async function resumeJourneys(engine: Engine, journeyArn: string, caseIds: string[]): Promise<number> {
  const names = new Set<string>();
  const running = new Set<string>();
  for (const e of listAllExecutions(engine, journeyArn)) {
    names.add(e.name);
    if (e.status === 'RUNNING') running.add(baseOf(e.name));
  }
  let started = 0;
  for (const caseId of caseIds) {
    if (running.has(caseId)) continue;
    let run = 1;
    while (names.has(journeyName(caseId, run))) run += 1;
    try {
      await engine.startExecution({
        stateMachineArn: journeyArn,
        name: journeyName(caseId, run),
        input: JSON.stringify({ caseId }),
      });
      started += 1;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  return started;
}

/**
 * Starts the intake of one write of a file (its name comes from the key and the write's
 * ETag, unique per write as in the KMS-encrypted bucket on AWS). The same write delivered
 * again finds its name taken and starts nothing, unless that intake ended without
 * success: then the repeated delivery runs it again, under the next run's name. An
 * officer's new upload of the same file is a new write, hence a new intake.
 */
export async function startIntake(engine: Engine, intakeArn: string, name: string, input: { bucket: string; key: string }) {
  try {
    await engine.startExecution({ stateMachineArn: intakeArn, name, input: JSON.stringify(input) });
    return;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  let latest: { run: number; status: string } = { run: 1, status: 'RUNNING' };
  for (const e of listAllExecutions(engine, intakeArn)) {
    const run = runOf(e.name, name);
    if (run !== undefined && run >= latest.run) latest = { run, status: e.status };
  }
  if (latest.status === 'RUNNING' || latest.status === 'SUCCEEDED') return;
  try {
    await engine.startExecution({ stateMachineArn: intakeArn, name: `${name}-r${latest.run + 1}`, input: JSON.stringify(input) });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/**
 * Intake is idempotent per row, so an intake the previous process left unfinished is
 * simply run again, under the next run's name, with the same input.
 */
export async function resumeIntakes(engine: Engine, intakeArn: string): Promise<number> {
  const latest = new Map<string, { run: number; record: ExecutionRecord }>();
  for (const e of listAllExecutions(engine, intakeArn)) {
    const base = baseOf(e.name);
    const run = runOf(e.name, base) ?? 1;
    const seen = latest.get(base);
    if (!seen || run > seen.run) latest.set(base, { run, record: e });
  }
  let started = 0;
  for (const [base, { run, record }] of latest) {
    if (record.status !== 'ABORTED' || record.cause !== RESTART_CAUSE) continue;
    try {
      await engine.startExecution({ stateMachineArn: intakeArn, name: `${base}-r${run + 1}`, input: record.input });
      started += 1;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  return started;
}

// ---- uploads ----

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(readonly text: { id: string; en: string }) {
    super(text.en);
  }
}

/** PUT a proposal file where the intake trigger looks: `proposals/<district>/<name>`, uploader and year as metadata. */
export async function putProposal(s3: S3Client, bucket: string, file: string, opts: UploadOptions): Promise<{ key: string }> {
  if (!/^\d{4}$/.test(opts.district)) {
    throw new UploadError({
      id: `Kode kabupaten/kota harus 4 angka (kode BPS), bukan "${opts.district}"`,
      en: `The district code must be 4 digits (BPS code), not "${opts.district}"`,
    });
  }
  const name = opts.name ?? basename(file);
  if (!name || name.includes('/') || /\.report\.(csv|json)$/.test(name)) {
    throw new UploadError({ id: `Nama berkas tidak dapat dipakai: "${name}"`, en: `This file name cannot be used: "${name}"` });
  }
  let body: Buffer;
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    body = await readFile(file);
  } catch {
    throw new UploadError({ id: `Berkas tidak dapat dibaca: ${file}`, en: `The file cannot be read: ${file}` });
  }
  const key = `proposals/${opts.district}/${name}`;
  const metadata: Record<string, string> = {};
  if (opts.uploader) metadata.uploader = opts.uploader;
  if (opts.programYear) metadata['program-year'] = String(opts.programYear);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
  return { key };
}

// ---- start / stop ----

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  if (running) throw new Error('embedded runtime: one runtime per process (handlers share process.env and SDK clients)');
  running = true;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dataDir = resolve(opts.dataDir);
  const paths = dataPaths(dataDir);
  const closers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };
  // Loaded here, not at the top, because the CLI's light commands import this module too;
  // and early, so the loading overlaps the services' start-up.
  const engineModules = Promise.all([import('./engine.ts'), import('./aws-endpoint.ts')]);
  // Awaited below; a start-up that fails before then must not leave it unhandled.
  engineModules.catch(() => undefined);
  try {
    const scoped = await invocationScope();
    for (const dir of [dataDir, paths.dynamodb, paths.s3, paths.sfn, paths.outbox]) await mkdir(dir, { recursive: true });
    const secret = await loadOrCreateSecret(paths.secret);
    const previous = processPorts ?? (await readPorts(paths.ports));

    // S3 events may arrive before the engine is ready; they wait for it.
    let engineReady: (engine: Engine, intakeArn: string) => void = () => undefined;
    const ready = new Promise<{ engine: Engine; intakeArn: string }>((res) => {
      engineReady = (engine, intakeArn) => res({ engine, intakeArn });
    });
    const pending = new Set<Promise<void>>();
    let report: (e: unknown, what: string) => void = (e, what) => {
      if (!opts.quiet) process.stderr.write(`prokus: ${what}: ${(e as Error)?.message ?? e}\n`);
    };
    let accepting = true;
    const onObjectCreated = (object: ObjectCreated) => {
      if (!accepting || !isProposalUpload(object.key)) return;
      const p = ready
        .then(({ engine, intakeArn }) =>
          startIntake(engine, intakeArn, intakeExecutionName(object.key, object.eTag), {
            bucket: object.bucket,
            key: object.key,
          }),
        )
        .catch((e) => report(e, `intake for ${object.key} did not start`));
      pending.add(p);
      void p.finally(() => pending.delete(p));
    };

    const dynamo: LocalService = await onPreferredPort(previous.dynamodb, (port) => startDynamo({ dir: paths.dynamodb, port }));
    closers.push(dynamo.close);
    await ensureTable(dynamo.endpoint, LOCAL_NAME);
    const s3Service = await onPreferredPort(previous.s3, (port) =>
      startS3({ dir: paths.s3, bucket: LOCAL_NAME, port, onObjectCreated }),
    );
    closers.push(s3Service.close);
    const s3 = localS3Client(s3Service.endpoint);
    closers.push(async () => s3.destroy());
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const documents = DynamoDBDocumentClient.from(dynamoClient);
    closers.push(async () => dynamoClient.destroy());

    const [{ Engine }, { startAwsEndpoint }] = await engineModules;
    const engine = new Engine({
      stateDir: paths.sfn,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      readItems: async (bucket, key) => {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const items: unknown = JSON.parse((await out.Body?.transformToString('utf8')) ?? 'null');
        if (!Array.isArray(items)) throw new Error(`s3://${bucket}/${key} does not hold a JSON array`);
        return items;
      },
    });
    const aws = await onPreferredPort(previous.sfn, (port) =>
      startAwsEndpoint({ engine, outboxDir: paths.outbox, secrets: { [SECRET_ID]: secret }, port }),
    );
    closers.push(aws.close);

    // The pages URL goes into every emailed link, so its port is kept when it can be.
    let pagesHandler: PagesHandler = async () => ({ statusCode: 503, body: 'starting' });
    const pages: PagesServer = await (opts.port !== undefined
      ? startPagesServer({ handler: (e, c) => pagesHandler(e, c), port: opts.port, onError: (e) => report(e, 'pages') })
      : onPreferredPort(previous.pages, (port) =>
          startPagesServer({ handler: (e, c) => pagesHandler(e, c), port, onError: (e) => report(e, 'pages') }),
        ));
    closers.push(pages.close);

    const endpoints: Endpoints = { dynamodb: dynamo.endpoint, s3: s3Service.endpoint, sfn: aws.url, pages: pages.url };
    const ports = {
      dynamodb: portOf(endpoints.dynamodb),
      s3: portOf(endpoints.s3),
      sfn: portOf(endpoints.sfn),
      pages: portOf(endpoints.pages),
    };
    const moved = (['dynamodb', 's3', 'sfn'] as const).filter(
      (k) => processPorts?.[k] !== undefined && processPorts[k] !== ports[k],
    );
    if (moved.length > 0) {
      throw new Error(
        `embedded runtime: the ${moved.join(', ')} port(s) this process used before are taken, and the handlers' SDK clients still point there; start the runtime in a new process`,
      );
    }
    processPorts = ports;
    await writeFile(paths.ports, `${JSON.stringify(ports)}\n`);
    setEnvironment({ endpoints, log: opts.logFile ? resolve(opts.logFile) : paths.log, programsDir: opts.programsDir });

    const { flushLogs, logger } = await import('#lib/logger');
    // Program files are cached per process; a runtime started again may name another folder.
    (await import('#domain/program')).resetProgramCache();
    report = (e, what) => logger.error(what, { error: e });
    // First in, so it runs last: every other closer may still log.
    closers.unshift(flushLogs);
    pagesHandler = scoped(opts.pagesHandler ?? (await importHandler('functions/pages.ts')));
    const functions = await loadFunctions(scoped, opts.handlers);

    const journeyArn = engine.registerStateMachine(
      JOURNEY_MACHINE,
      await readFile(new URL('workflows/journey.asl.json', root), 'utf8'),
      substitutions(),
    );
    const intakeArn = engine.registerStateMachine(
      INTAKE_MACHINE,
      await readFile(new URL('workflows/intake.asl.json', root), 'utf8'),
      substitutions(journeyArn),
    );
    for (const [id, handler] of functions) engine.registerLambda(functionArn(id), handler);
    await engine.open();
    closers.push(() => engine.close());

    const resumed = {
      intakes: await resumeIntakes(engine, intakeArn),
      journeys: await resumeJourneys(engine, journeyArn, await openCaseIds(documents, LOCAL_NAME)),
    };
    if (resumed.intakes + resumed.journeys > 0) logger.info('resumed after restart', resumed);
    engineReady(engine, intakeArn);

    const endpointsFile: EndpointsFile = {
      pid: process.pid,
      dataDir,
      region: LOCAL_REGION,
      bucket: LOCAL_NAME,
      table: LOCAL_NAME,
      secretId: SECRET_ID,
      endpoints,
      journeyArn,
      intakeArn,
      startedAt: new Date().toISOString(),
    };
    await writeFile(paths.endpoints, `${JSON.stringify(endpointsFile, null, 2)}\n`);

    let stopped: Promise<void> | undefined;
    return {
      dataDir,
      outboxDir: paths.outbox,
      bucket: LOCAL_NAME,
      table: LOCAL_NAME,
      endpoints,
      engine,
      journeyArn,
      intakeArn,
      resumed,
      upload: (file, uploadOpts) => putProposal(s3, LOCAL_NAME, file, uploadOpts),
      idle: (idleOpts) => waitIdle(engine, () => pending.size + pages.inFlight(), idleOpts?.timeoutMs),
      stop() {
        stopped ??= (async () => {
          accepting = false;
          // No new decisions from the pages while the engine winds down.
          await pages.close();
          await Promise.allSettled([...pending]);
          await rm(paths.endpoints, { force: true });
          await stopAll();
          running = false;
        })();
        return stopped;
      },
    };
  } catch (e) {
    await stopAll();
    running = false;
    throw e;
  }
}

/**
 * Polls rather than sleeps a guessed time: idle means every running execution waits for
 * a task token, no S3 event is still starting an intake and no page request is being
 * answered — seen on two polls in a row, so a hand-over between states is not mistaken
 * for rest.
 */
function waitIdle(engine: Engine, busy: () => number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    let quietPolls = 0;
    const poll = () => {
      const { running, waitingForTask } = engine.activity();
      quietPolls = running === waitingForTask && busy() === 0 ? quietPolls + 1 : 0;
      if (quietPolls >= 2) return resolvePromise();
      if (Date.now() > deadline) return reject(new Error(`embedded runtime not idle after ${timeoutMs} ms (${running} running)`));
      setTimeout(poll, 10);
    };
    poll();
  });
}
