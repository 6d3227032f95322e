/**
 * The `prokus` command as an operator runs it: a separate process through the bin shim,
 * talking to a `prokus dev` in another process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Browsers } from '../../cli/people.ts';
import { generateFamilies, proposalCsv, registryCsv } from '../../cli/synthetic.ts';
import { approvalMails } from '../helpers/approval-levels.ts';
import { cliEnv, type Done, repo, runCommand, shim } from '../helpers/cli.ts';
import { decideAs } from '../helpers/people.ts';

let dir: string;
const children = new Set<ChildProcess>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-cli-'));
});

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  children.clear();
  await rm(dir, { recursive: true, force: true });
});

function prokus(args: string[], command: string[] = [process.execPath, shim]): Promise<Done> {
  const [exe, ...rest] = command as [string, ...string[]];
  return runCommand(exe, [...rest, ...args], dir, (child) => children.add(child));
}

interface Dev {
  child: ChildProcess;
  output(): string;
  sfn: string;
  pages: string;
  journeyArn: string;
  intakeArn: string;
  exited: Promise<number | null>;
}

/** Starts `prokus dev` and resolves once it has printed its endpoints. */
function startDev(args: string[]): Promise<Dev> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [shim, 'dev', '--data', join(dir, 'data'), ...args], { cwd: dir, env: cliEnv() });
    children.add(child);
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    void exited.then((code) => reject(new Error(`prokus dev exited (${code}) before it was ready:\n${out}\n${err}`)));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('Ctrl+C')) return;
      const field = (label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(out)?.[1] ?? '';
      resolve({
        child,
        output: () => out,
        sfn: field('Step Functions'),
        pages: field('Pages \\(links in emails\\)'),
        journeyArn: field('Journey state machine'),
        intakeArn: field('Intake state machine'),
        exited,
      });
    });
  });
}

/** What `eval "$(prokus env)"` would export. */
function exportsOf(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export (\w+)='([^']*)'$/gm)) vars[m[1]!] = m[2]!;
  return vars;
}

/** A client as the operator's shell makes one after `eval "$(npx prokus env)"`. */
function sfnClient(env: Record<string, string>): SFNClient {
  return new SFNClient({
    endpoint: env.AWS_ENDPOINT_URL_SFN,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
}

async function executions(client: SFNClient, stateMachineArn: string) {
  return (await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }))).executions ?? [];
}

describe('prokus command', () => {
  it('shows its commands through the bin shim and through tsx (npm run prokus)', async () => {
    const tsx = join(repo, 'node_modules', '.bin', 'tsx');
    for (const command of [
      [process.execPath, shim],
      [tsx, join(repo, 'cli', 'cli.ts')],
    ]) {
      const help = await prokus(['--help'], command);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/dev \[options\]/);
      expect(help.stdout).toMatch(/upload \[options\] <file>/);
      expect(help.stdout).toMatch(/registry/);
      expect(help.stdout).toMatch(/validate \[options\] <file>/);
      expect(help.stdout).toMatch(/template \[options\]/);
      expect(help.stdout).toMatch(/env \[options\]/);
    }
  });

  it('says in both languages that no `prokus dev` runs, and fails', async () => {
    await writeFile(join(dir, 'usulan.csv'), 'nik\n');
    const upload = await prokus(['upload', 'usulan.csv', '--district', '3210', '--data', 'nothing-here']);
    expect(upload.code).toBe(1);
    expect(upload.stderr).toContain('Tidak ada `prokus dev` yang berjalan');
    expect(upload.stderr).toContain('No `prokus dev` is running');

    const missing = await prokus(['registry', 'import', 'no-such-file.csv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Berkas tidak dapat dibaca');
    expect(missing.stderr).toContain('The file cannot be read');
  });

  it('runs dev: imports the registry, uploads a proposal, resumes after kill -9 with emailed links working, stops on Ctrl+C', async () => {
    const families = generateFamilies(10, 7).filter((f) => f.district === '3210' && !f.planned);
    expect(families.length).toBeGreaterThan(0);
    await writeFile(join(dir, 'registry.csv'), registryCsv(families));
    await writeFile(join(dir, 'usulan.csv'), proposalCsv(families));
    const data = join(dir, 'data');

    const first = await startDev(['--port', '0']);
    expect(first.output()).toContain('aws stepfunctions list-executions --state-machine-arn');
    expect(first.output()).toContain(`--endpoint-url ${first.sfn}`);
    expect(first.output()).toContain(`eval "$(npx prokus env --data ${data})"`);

    // The services answer only the data folder's credentials, which `prokus env` prints (and `prokus dev` does not).
    const env = await prokus(['env', '--data', data]);
    expect(env.code).toBe(0);
    const exported = exportsOf(env.stdout);
    const onFile = JSON.parse(await readFile(join(data, 'credentials.json'), 'utf8'));
    expect(exported).toMatchObject({
      AWS_ACCESS_KEY_ID: onFile.accessKeyId,
      AWS_SECRET_ACCESS_KEY: onFile.secretAccessKey,
      AWS_DEFAULT_REGION: 'ap-southeast-3',
      AWS_ENDPOINT_URL_SFN: first.sfn,
    });
    expect(env.stdout).toContain('unset AWS_SESSION_TOKEN AWS_PROFILE');
    expect(first.output()).not.toContain(onFile.secretAccessKey);
    const unsigned = await fetch(first.sfn, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
      body: '{}',
    });
    expect(unsigned.status).toBe(403);

    const twice = await prokus(['dev', '--data', data, '--port', '0']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('already running');

    const imported = await prokus(['registry', 'import', 'registry.csv', '--data', data]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`Diimpor / imported: ${families.length}`);

    const badDistrict = await prokus(['upload', 'usulan.csv', '--district', '32', '--data', data]);
    expect(badDistrict.code).toBe(1);
    expect(badDistrict.stderr).toContain('4 digits');

    const uploaded = await prokus(['upload', 'usulan.csv', '--district', '3210', '--year', '2020', '--data', data]);
    expect(uploaded.code).toBe(0);
    expect(uploaded.stdout).toContain('s3://prokus-local/proposals/3210/usulan.csv');

    // Every family waits for grant approval once the approval emails are out.
    const sfn = sfnClient(exported);
    await vi.waitFor(
      async () => {
        expect(await executions(sfn, first.intakeArn)).toHaveLength(1);
        const journeys = await executions(sfn, first.journeyArn);
        expect(journeys).toHaveLength(families.length);
        const mails = (await readdir(join(data, 'outbox'))).filter((f) => f.endsWith('.eml'));
        expect(mails.length).toBeGreaterThanOrEqual(families.length);
      },
      { timeout: 60_000, interval: 200 },
    );
    sfn.destroy();
    let link: string | undefined;
    for (const f of await readdir(join(data, 'outbox'))) {
      const mail = await simpleParser(await readFile(join(data, 'outbox', f)));
      if (mail.headers.get('x-prokus-kind') !== 'grant-approval') continue;
      link = /(https?:\/\/\S+\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1];
      if (link) break;
    }
    expect(link?.startsWith(first.pages)).toBe(true);

    first.child.kill('SIGKILL');
    await first.exited;
    const stale = await prokus(['upload', 'usulan.csv', '--district', '3210', '--data', data]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('No `prokus dev` is running');

    // The operator starts it again on the same pages port, as the links in sent mail name it.
    const second = await startDev(['--port', new URL(first.pages).port]);
    expect(second.output()).toContain(`Dilanjutkan / resumed: ${families.length} journey(s)`);
    // The approver signs in with a one-time code (the demo accounts of the first start) and decides.
    const browsers = new Browsers({ pagesUrl: first.pages, outboxDir: join(data, 'outbox') });
    // The request's recipient: the district head of the family's district (programs/2020.json).
    const recipient = (await approvalMails(join(data, 'outbox'))).find((m) => m.link === link)?.to ?? '';
    expect(recipient).toMatch(/^kadinsos\./);
    const { shown, posted } = await decideAs(browsers, recipient, link!, 'decision=approved');
    expect(shown.status).toBe(200);
    expect(posted.status).toBeLessThan(400);

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('berhenti / stopping');
    await expect(stat(join(data, 'endpoints.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
