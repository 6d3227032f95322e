/**
 * The `prokus` command. Each subcommand is built by its own function and added in
 * `buildProgram`, so new ones (`demo`, `template`, `validate`) slot in without touching
 * the others. Messages for people come in Indonesian and English.
 */
import { createReadStream, realpathSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { LocalCredentials } from '../embedded/local/local-auth.ts';
import { LOCAL_REGION } from '../embedded/local/ports.ts';
import { localS3Client } from '../embedded/local/s3.ts';
import { AccountError, addAccount } from '../embedded/runtime/accounts.ts';
import { readCredentials, runtimeCredentials } from '../embedded/runtime/credentials.ts';
import {
  confirmIntake,
  dataPaths,
  EndpointsFile,
  putProposal,
  type Runtime,
  setEnvironment,
  startRuntime,
  UploadError,
} from '../embedded/runtime/index.ts';
import { describeDemoAccounts, ensureDemoAccounts } from './demo-accounts.ts';

const DEFAULT_DATA = '.prokus';

/** A failure the user can fix; printed in both languages, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(readonly text: { id: string; en: string }) {
    super(text.en);
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('port 0-65535 (0 = any free port)');
  return port;
}

function parseYear(value: string): number {
  if (!/^\d{4}$/.test(value)) throw new InvalidArgumentError('a year like 2020');
  return Number(value);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A running `prokus dev`: its endpoints, and the operator credentials its services accept. */
export type RunningDev = EndpointsFile & { credentials: LocalCredentials };

/** The endpoints and credentials of the `prokus dev` running on this data dir, or undefined when none is. */
export async function runningDev(dataDir: string): Promise<RunningDev | undefined> {
  const paths = dataPaths(resolve(dataDir));
  let text: string;
  try {
    text = await readFile(paths.endpoints, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Cut short (a runtime before files were renamed into place, a full disk): it names no live dev.
    return undefined;
  }
  const parsed = EndpointsFile.safeParse(json);
  // A file left by a killed process points at ports nobody answers on.
  if (!parsed.success || !isAlive(parsed.data.pid)) return undefined;
  // Written before endpoints.json on every start; unreadable only to another user.
  const credentials = await readCredentials(paths.credentials);
  return credentials ? { ...parsed.data, credentials } : undefined;
}

async function requireDev(dataDir: string): Promise<RunningDev> {
  const dev = await runningDev(dataDir);
  if (dev) return dev;
  const dir = resolve(dataDir);
  throw new CliError({
    id: `Tidak ada \`prokus dev\` yang berjalan untuk folder data ${dir}. Jalankan dulu: npx prokus dev --data ${dataDir}`,
    en: `No \`prokus dev\` is running for the data folder ${dir}. Start it first: npx prokus dev --data ${dataDir}`,
  });
}

// ---- dev ----

export function describeRuntime(rt: Runtime, dataArg: string, signIn: string[] = []): string {
  const e = rt.endpoints;
  const lines = [
    'Prokus embedded runtime berjalan / is running',
    '',
    `  Pages (links in emails)  ${e.pages}`,
    `  Sign-in (OpenID Connect) ${e.oidc}`,
    `  DynamoDB                 ${e.dynamodb}   table ${rt.table}`,
    `  S3                       ${e.s3}   bucket ${rt.bucket}`,
    `  Step Functions           ${e.sfn}`,
    `  Outbox (.eml)            ${rt.outboxDir}`,
    `  Logs                     ${join(rt.dataDir, 'logs', 'prokus.log')}`,
    `  Data                     ${rt.dataDir}`,
    `  Journey state machine    ${rt.journeyArn}`,
    `  Intake state machine     ${rt.intakeArn}`,
  ];
  if (rt.resumed.journeys + rt.resumed.intakes > 0) {
    lines.push(
      '',
      `Dilanjutkan / resumed: ${rt.resumed.journeys} journey(s), ${rt.resumed.intakes} intake(s) from the previous run`,
    );
  }
  lines.push(
    '',
    'Coba / try:',
    `  npx prokus registry import registry.csv --data ${dataArg}`,
    `  npx prokus upload usulan.csv --district 3210 --data ${dataArg}`,
    '',
    'AWS CLI: the services answer only requests signed with this data folder\u2019s credentials:',
    `  eval "$(npx prokus env --data ${dataArg})"`,
    `  aws stepfunctions list-executions --state-machine-arn ${rt.journeyArn} --endpoint-url ${e.sfn}`,
    `  aws stepfunctions get-execution-history --execution-arn <executionArn> --endpoint-url ${e.sfn}`,
    `  aws dynamodb scan --table-name ${rt.table} --max-items 5 --endpoint-url ${e.dynamodb}`,
    `  aws s3 ls s3://${rt.bucket}/proposals/ --recursive --endpoint-url ${e.s3}`,
    '',
    ...(signIn.length > 0 ? [...signIn, ''] : []),
    'Berhenti / stop: Ctrl+C',
  );
  return lines.join('\n');
}

function devCommand(): Command {
  return new Command('dev')
    .description('start the embedded runtime (DynamoDB, S3, Step Functions, outbox, pages) and keep it running')
    .option('--data <dir>', 'data folder (survives restarts)', DEFAULT_DATA)
    .option('--port <n>', 'port of the pages that emailed links open (0 = any free port)', parsePort, 8080)
    .action(async (opts: { data: string; port: number }) => {
      const other = await runningDev(opts.data);
      if (other) {
        throw new CliError({
          id: `\`prokus dev\` sudah berjalan untuk folder data ini (pid ${other.pid}).`,
          en: `\`prokus dev\` is already running for this data folder (pid ${other.pid}).`,
        });
      }
      let rt: Runtime;
      try {
        rt = await startRuntime({ dataDir: opts.data, port: opts.port });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new CliError({
            id: `Port ${opts.port} sudah dipakai program lain. Pilih port lain dengan --port N (0 = port bebas mana saja).`,
            en: `Port ${opts.port} is used by another program. Choose another with --port N (0 = any free port).`,
          });
        }
        throw e;
      }
      const accounts = await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
      process.stdout.write(`${describeRuntime(rt, opts.data, describeDemoAccounts(accounts, rt.endpoints.pages))}\n`);
      await new Promise<void>((done) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stdout.write(`\n${signal}: berhenti / stopping…\n`);
          // A second signal while stopping means the user wants out now.
          process.once(signal, () => process.exit(130));
          rt.stop().then(done, (e) => {
            process.stderr.write(`${(e as Error).stack ?? e}\n`);
            process.exit(1);
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

// ---- users ----

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function usersCommand(): Command {
  const users = new Command('users').description('accounts of the embedded sign-in (on AWS: the Cognito user pool, see README)');
  users
    .command('add')
    .description('add a person who may sign in; prints the password of roles that use one')
    .argument('<email>', 'their email address (requests for them are sent there)')
    .requiredOption(
      '--role <role>',
      `officer, approver, mentor, lender, operator or admin (repeat or comma-separate)`,
      collect,
      [],
    )
    .option('--district <code>', 'BPS district code they serve, e.g. 3210 (repeat or comma-separate)', collect, [])
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .option('--data <dir>', 'data folder', DEFAULT_DATA)
    .action(async (email: string, opts: { role: string[]; district: string[]; passwordStdin?: boolean; data: string }) => {
      const password = opts.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
      try {
        const { account, password: handed } = await addAccount(dataPaths(resolve(opts.data)).accounts, {
          email,
          roles: opts.role,
          districts: opts.district,
          password,
        });
        process.stdout.write(`${account.email}  ${account.roles.join(',')}  ${account.districts.join(',') || '-'}\n`);
        if (handed && !password) process.stdout.write(`password: ${handed}\n`);
        else if (!handed)
          process.stdout.write('Masuk dengan kode sekali pakai lewat email / signs in with a one-time code by email\n');
      } catch (e) {
        if (e instanceof AccountError) throw new CliError(e.text);
        throw e;
      }
    });
  return users;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// ---- upload ----

function uploadCommand(): Command {
  return new Command('upload')
    .description('put a proposal file into the running dev\u2019s bucket under proposals/<district>/ (starts the intake)')
    .argument('<file>', 'proposal file (CSV)')
    .requiredOption('--district <code>', 'BPS code of the uploading district, e.g. 3210')
    .option('--year <yyyy>', 'program year', parseYear)
    .option('--uploader <email>', 'who uploads; receives the intake report')
    .option('--data <dir>', 'data folder of the running `prokus dev`', DEFAULT_DATA)
    .action(async (file: string, opts: { district: string; year?: number; uploader?: string; data: string }) => {
      const dev = await requireDev(opts.data);
      const s3 = localS3Client(dev.endpoints.s3, dev.credentials);
      const { SFNClient } = await import('@aws-sdk/client-sfn');
      const sfn = new SFNClient({ endpoint: dev.endpoints.sfn, region: LOCAL_REGION, credentials: dev.credentials });
      try {
        const upload = await putProposal(s3, dev.bucket, file, {
          district: opts.district,
          programYear: opts.year,
          uploader: opts.uploader,
        });
        await confirmIntake(sfn, dev.intakeArn, upload);
        const { key } = upload;
        process.stdout.write(
          `Terunggah / uploaded: s3://${dev.bucket}/${key}\n` +
            `Intake dimulai / intake started: ${dev.intakeArn}\n` +
            `Laporan / report: s3://${dev.bucket}/${key}.report.csv (when the intake is done)\n`,
        );
      } catch (e) {
        if (e instanceof UploadError) throw new CliError(e.text);
        throw e;
      } finally {
        s3.destroy();
        sfn.destroy();
      }
    });
}

// ---- env ----

/** Single-quoted for a POSIX shell. */
const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The shell lines that point the AWS CLI (or any SDK) at a running dev, signed with its credentials. */
export function envLines(dev: RunningDev): string[] {
  const vars: [string, string][] = [
    ['AWS_ACCESS_KEY_ID', dev.credentials.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', dev.credentials.secretAccessKey],
    ['AWS_REGION', dev.region],
    // The AWS CLI v1 (Debian's awscli) reads AWS_DEFAULT_REGION, not AWS_REGION.
    ['AWS_DEFAULT_REGION', dev.region],
    ['AWS_ENDPOINT_URL_DYNAMODB', dev.endpoints.dynamodb],
    ['AWS_ENDPOINT_URL_S3', dev.endpoints.s3],
    ['AWS_ENDPOINT_URL_SFN', dev.endpoints.sfn],
    ['AWS_ENDPOINT_URL_SESV2', dev.endpoints.sfn],
  ];
  return [
    `# prokus dev, data ${dev.dataDir} (pid ${dev.pid}): eval "$(npx prokus env --data <dir>)"`,
    ...vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    // A session token or profile from the shell would be signed in and refused.
    'unset AWS_SESSION_TOKEN AWS_PROFILE',
  ];
}

function envCommand(): Command {
  return new Command('env')
    .description('print shell exports that point the AWS CLI at the running dev, with its local credentials')
    .option('--data <dir>', 'data folder of the running `prokus dev`', DEFAULT_DATA)
    .action(async (opts: { data: string }) => {
      const dev = await requireDev(opts.data);
      process.stdout.write(`${envLines(dev).join('\n')}\n`);
    });
}

async function readSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new CliError({
      id: `Rahasia program tidak dapat dibaca: ${file}`,
      en: `The program secret cannot be read: ${file}`,
    });
  }
}

// ---- registry ----

function printImportSummary(summary: {
  imported: number;
  rejected: { row: number; code: string; message: { id: string; en: string } }[];
}): void {
  const out = [`Diimpor / imported: ${summary.imported}`, `Ditolak / rejected: ${summary.rejected.length}`];
  const shown = summary.rejected.slice(0, 50);
  for (const r of shown) out.push(`  baris/row ${r.row}  ${r.code}  ${r.message.id} / ${r.message.en}`);
  if (summary.rejected.length > shown.length) out.push(`  … ${summary.rejected.length - shown.length} more`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function registryCommand(): Command {
  const registry = new Command('registry').description('the PKH graduation registry verification checks against');
  registry
    .command('import')
    .description('import a PKH registry CSV into the running dev\u2019s table')
    .argument('<file>', 'registry CSV')
    .option('--data <dir>', 'data folder of the running `prokus dev`', DEFAULT_DATA)
    .action(async (file: string, opts: { data: string }) => {
      try {
        await access(file);
      } catch {
        throw new CliError({ id: `Berkas tidak dapat dibaca: ${file}`, en: `The file cannot be read: ${file}` });
      }
      const dev = await requireDev(opts.data);
      // The registry module hashes NIKs with the program secret and writes through the
      // domain's SDK clients, which read their endpoints from the environment when first used.
      // Secrets Manager hands the secret to the runtime's key pair only, derived from the
      // secret file this process (the folder's owner) can read.
      const paths = dataPaths(dev.dataDir);
      const secret = await readSecret(paths.secret);
      setEnvironment({ endpoints: dev.endpoints, credentials: runtimeCredentials(secret), log: paths.log });
      const { loadKeys } = await import('#lib/secrets');
      await loadKeys();
      const { importRegistry } = await import('#intake/registry-import');
      const input = createReadStream(file);
      const opened = new Promise<void>((ok, fail) => {
        input.once('open', () => ok());
        input.once('error', fail);
      });
      try {
        await opened;
      } catch {
        throw new CliError({ id: `Berkas tidak dapat dibaca: ${file}`, en: `The file cannot be read: ${file}` });
      }
      printImportSummary(await importRegistry(input));
      (await import('#lib/clients/dynamodb')).dynamo.destroy();
    });
  return registry;
}

// ---- program ----

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100_000) throw new InvalidArgumentError('a whole number of families, 1-100000');
  return n;
}

function demoCommand(): Command {
  return new Command('demo')
    .description('the whole journey end to end on the embedded runtime: synthetic families, people played through emailed links')
    .option('--families <n>', 'how many families across the five 2020 pilot districts', parseCount, 100)
    .option('--seed <n>', 'seed of the synthetic data (same seed, same families)', parseCount, 2020)
    .option('--data <dir>', 'keep the demo data here (default: a temporary folder, removed afterwards)')
    .option('--json', 'print the result as JSON on stdout (progress goes to stderr)')
    .action(async (opts: { families: number; seed: number; data?: string; json?: boolean }) => {
      // Loaded here so other subcommands do not pay for the engine and the local services.
      const { demoExitCode, formatDemoReport, runDemo } = await import('./demo.ts');
      const result = await runDemo({
        families: opts.families,
        seed: opts.seed,
        dataDir: opts.data ? resolve(opts.data) : undefined,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatDemoReport(result)}\n`);
      process.exitCode = demoExitCode(result);
    });
}

// ---- proposal files ----

function validateCommand(): Command {
  return new Command('validate')
    .description('check a proposal file without uploading it: every row, with the reason for each rejection')
    .argument('<file>', 'proposal file (CSV or XLSX)')
    .requiredOption('--district <code>', 'BPS code of the proposing district, e.g. 3210')
    .option('--year <yyyy>', 'program year (default: the latest configured)', parseYear)
    .option('--json', 'print every row as JSON on stdout')
    .action(async (file: string, opts: { district: string; year?: number; json?: boolean }) => {
      // Loaded here so other subcommands do not pay for the sheet readers.
      const { runValidate } = await import('./validate-command.ts');
      process.exitCode = await runValidate(file, opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

function templateCommand(): Command {
  return new Command('template')
    .description('write the proposal template district officers fill in (XLSX, or CSV)')
    .option('--out <file>', 'where to write it (default: templat-usulan-prokus.xlsx or .csv)')
    .option('--format <format>', 'xlsx (default) or csv; taken from --out when it ends in .csv')
    .option('--force', 'overwrite --out if it exists')
    .action(async (opts: { out?: string; format?: string; force?: boolean }) => {
      const { defaultTemplateFile, templateFormat, TemplateError, writeTemplate } = await import('./template.ts');
      try {
        const format = templateFormat(opts.out, opts.format);
        const out = opts.out ?? defaultTemplateFile(format);
        await writeTemplate(out, format, { force: opts.force });
        process.stdout.write(
          `Templat usulan ditulis / proposal template written: ${out}\n` +
            `Periksa sebelum mengunggah / check before uploading: npx prokus validate ${out} --district <kode/code>\n`,
        );
      } catch (e) {
        if (e instanceof TemplateError) throw new CliError(e.text);
        throw e;
      }
    });
}

export function buildProgram(): Command {
  const program = new Command('prokus')
    .description('Prokus Workflow: the Prokus journey of each family, on AWS or embedded on one machine')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(devCommand());
  program.addCommand(uploadCommand());
  program.addCommand(registryCommand());
  program.addCommand(envCommand());
  program.addCommand(demoCommand());
  program.addCommand(validateCommand());
  program.addCommand(templateCommand());
  program.addCommand(usersCommand());
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  // The benchmark measures the command's own peak memory where GNU time is missing.
  if (process.env.PROKUS_REPORT_RSS === '1') {
    process.once('exit', () => process.stderr.write(`prokus: peak RSS ${process.resourceUsage().maxRSS} KiB\n`));
  }
  try {
    await buildProgram().parseAsync(argv);
    // Commands that finish with a verdict (demo, validate) set it; the caller assigns our return to process.exitCode.
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('commander.')) {
      // Help and version are successes; usage errors were already printed by commander.
      return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(code) ? 0 : 1;
    }
    if (e instanceof CliError) {
      process.stderr.write(`${e.text.id}\n${e.text.en}\n`);
      return 1;
    }
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

/** Run when started as `tsx cli/cli.ts` or through the `prokus` bin shim. */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    const real = realpathSync(entry);
    const here = fileURLToPath(import.meta.url);
    return real === here || real === join(here, '..', 'prokus.js');
  } catch {
    return false;
  }
}

if (isEntry()) {
  process.exitCode = await main();
}
