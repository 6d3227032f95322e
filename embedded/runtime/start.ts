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
 *
 * This file starts and stops a runtime in that order; index.ts lists what others use.
 */
import { createHmac } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConsoleEnvName } from '#lib/env';
import { type SesFault, writeToOutbox } from '../aws-endpoint/sesv2.ts';
import { ensureTable, startDynamo } from '../local/dynamodb.ts';
import type { LocalCredentials } from '../local/local-auth.ts';
import { startOidc } from '../local/oidc.ts';
import { type PagesHandler, type PagesServer, startPagesServer } from '../local/pages-server.ts';
import { LOCAL_REGION, type LocalService } from '../local/ports.ts';
import { intakeExecutionName, isProposalUpload, localS3Client, type ObjectCreated, startS3 } from '../local/s3.ts';
import type { Engine, LambdaHandler } from '../stepfunctions/engine.ts';
import { keyringOf, loadOrCreateCredentials } from './credentials.ts';
import {
  dataPaths,
  type EndpointsFile,
  loadOrCreateSecret,
  makePrivate,
  onPreferredPort,
  type Ports,
  portOf,
  privateUmask,
  readPorts,
  replaceFile,
} from './data-dir.ts';
import {
  type Endpoints,
  INTAKE_MACHINE,
  JOURNEY_MACHINE,
  LOCAL_ACCOUNT,
  LOCAL_NAME,
  LOCAL_PAGES_CLIENT,
  SECRET_ID,
  setEnvironment,
} from './environment.ts';
import { openCaseIds, resumeIntakes, resumeJourneys, startIntake } from './executions.ts';
import { type FunctionId, functionArn, importHandler, invocationScope, loadFunctions, root, substitutions } from './handlers.ts';
import { putProposal, type UploadOptions } from './upload.ts';

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
  /** Make SES refuse the messages this picks (tests: a failing SES). */
  sesFault?: SesFault;
}

export interface Runtime {
  dataDir: string;
  outboxDir: string;
  /** The embedded sign-in's user directory (runtime/accounts.ts; `prokus users add`). */
  accountsFile: string;
  bucket: string;
  table: string;
  endpoints: Endpoints;
  /** The operator key pair the local services accept (the CLI, the demo, the AWS CLI: `prokus env`). */
  credentials: LocalCredentials;
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

/** Ports of the runtime this process ran last: its handler modules' SDK clients still point there. */
let processPorts: Ports | undefined;
let running = false;

/**
 * The engine's library (aws-local-stepfunctions) needs Node 22 or later
 * (`Promise.withResolvers`); on Node 20 executions start and never move. The npm scripts
 * run the Node 24 this project installs (devDependency `node`); a bare `node` may be the
 * system's older one, so say so instead of hanging.
 */
export function assertSupportedNode(): void {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function') return;
  throw new Error(
    `embedded runtime: Node.js ${process.version} is too old (22 or later needed); run it through npm (npm run prokus, npx prokus), which uses the project's Node 24 / ` +
      `Node.js ${process.version} terlalu lama (perlu 22 atau lebih baru); jalankan lewat npm (npm run prokus, npx prokus), yang memakai Node 24 proyek ini`,
  );
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  assertSupportedNode();
  if (running) throw new Error('embedded runtime: one runtime per process (handlers share process.env and SDK clients)');
  running = true;
  const dataDir = resolve(opts.dataDir);
  const paths = dataPaths(dataDir);
  const restoreUmask = privateUmask();
  const closers: (() => Promise<void>)[] = [async () => restoreUmask()];
  const stopAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };
  // Loaded here, not at the top, because the CLI's light commands import this module too;
  // and early, so the loading overlaps the services' start-up.
  const engineModules = Promise.all([import('../stepfunctions/engine.ts'), import('../aws-endpoint/server.ts')]);
  // Awaited below; a start-up that fails before then must not leave it unhandled.
  engineModules.catch(() => undefined);
  try {
    const scoped = await invocationScope();
    await makePrivate(dataDir);
    for (const dir of [paths.dynamodb, paths.s3, paths.sfn, paths.outbox]) await mkdir(dir, { recursive: true, mode: 0o700 });
    const secret = await loadOrCreateSecret(paths.secret);
    const credentials = await loadOrCreateCredentials(paths.credentials);
    const keyring = keyringOf(credentials, secret);
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

    const dynamo: LocalService = await onPreferredPort(previous.dynamodb, (port) =>
      startDynamo({ dir: paths.dynamodb, port, keyring }),
    );
    closers.push(dynamo.close);
    await ensureTable(dynamo.endpoint, LOCAL_NAME, keyring.runtime);
    let pagesOrigin: string | undefined;
    const s3Service = await onPreferredPort(previous.s3, (port) =>
      // The upload page posts files here from the pages' origin, known once the pages listen (below).
      startS3({ dir: paths.s3, bucket: LOCAL_NAME, port, keyring, onObjectCreated, pagesOrigin: () => pagesOrigin }),
    );
    closers.push(s3Service.close);
    const s3 = localS3Client(s3Service.endpoint, keyring.runtime);
    closers.push(async () => s3.destroy());
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: keyring.runtime });
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
      startAwsEndpoint({
        engine,
        outboxDir: paths.outbox,
        secrets: { [SECRET_ID]: secret },
        keyring,
        port,
        sesFault: opts.sesFault,
      }),
    );
    closers.push(aws.close);

    // The pages URL goes into every emailed link, so its port is kept when it can be.
    const starting: PagesHandler = async () => ({ statusCode: 503, body: 'starting' });
    let pagesHandler = starting;
    let consoleHandler = starting;
    const servePages = (port: number | undefined) =>
      startPagesServer({
        handler: (e, c) => pagesHandler(e, c),
        console: (e, c) => consoleHandler(e, c),
        port,
        onError: (e) => report(e, 'pages'),
      });
    const pages: PagesServer = await (opts.port !== undefined
      ? servePages(opts.port)
      : onPreferredPort(previous.pages, servePages));
    closers.push(pages.close);
    pagesOrigin = new URL(pages.url).origin;

    const oidc = await onPreferredPort(previous.oidc, (port) =>
      startOidc({
        port,
        accountsFile: paths.accounts,
        keyFile: paths.oidcKey,
        pagesUrl: pages.url,
        clientId: LOCAL_PAGES_CLIENT,
        sendMail: async (raw) => {
          await writeToOutbox(paths.outbox, raw);
        },
        cookieKeys: [createHmac('sha256', secret).update('oidc-cookies').digest('base64url')],
      }),
    );
    closers.push(oidc.close);

    const endpoints: Endpoints = {
      dynamodb: dynamo.endpoint,
      s3: s3Service.endpoint,
      sfn: aws.url,
      pages: pages.url,
      oidc: oidc.issuer,
    };
    const ports = {
      dynamodb: portOf(endpoints.dynamodb),
      s3: portOf(endpoints.s3),
      sfn: portOf(endpoints.sfn),
      pages: portOf(endpoints.pages),
      oidc: portOf(endpoints.oidc),
    };
    const moved = (['dynamodb', 's3', 'sfn', 'oidc'] as const).filter(
      (k) => processPorts?.[k] !== undefined && processPorts[k] !== ports[k],
    );
    if (moved.length > 0) {
      throw new Error(
        `embedded runtime: the ${moved.join(', ')} port(s) this process used before are taken, and the handlers' SDK clients still point there; start the runtime in a new process`,
      );
    }
    processPorts = ports;
    await replaceFile(paths.ports, `${JSON.stringify(ports)}\n`);
    setEnvironment({
      endpoints,
      credentials: keyring.runtime,
      log: opts.logFile ? resolve(opts.logFile) : paths.log,
      programsDir: opts.programsDir,
    });

    const { flushLogs, logger, useLogFile } = await import('#lib/logger');
    useLogFile();
    // Program files are cached per process; a runtime started again may name another folder.
    (await import('#domain/program')).resetProgramCache();
    report = (e, what) => logger.error(what, { error: e });
    // First in, so it runs last: every other closer may still log.
    closers.unshift(flushLogs);
    pagesHandler = scoped(opts.pagesHandler ?? (await importHandler('functions/pages.ts')));
    consoleHandler = scoped(await importHandler('functions/console.ts'));
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
    const consoleEnv: Record<ConsoleEnvName, string> = {
      JOURNEY_STATE_MACHINE_ARN: journeyArn,
      INTAKE_STATE_MACHINE_ARN: intakeArn,
    };
    Object.assign(process.env, consoleEnv);
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
    await replaceFile(paths.endpoints, `${JSON.stringify(endpointsFile, null, 2)}\n`);

    let stopped: Promise<void> | undefined;
    return {
      dataDir,
      outboxDir: paths.outbox,
      accountsFile: paths.accounts,
      bucket: LOCAL_NAME,
      table: LOCAL_NAME,
      endpoints,
      credentials,
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
