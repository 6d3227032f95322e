/** Running the `prokus` command in a child process, as an officer or operator would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const repo = new URL('../..', import.meta.url).pathname;
export const shim = join(repo, 'cli', 'prokus.js');

/** The test's environment, minus what would change the command's own output. */
export function cliEnv(): NodeJS.ProcessEnv {
  const { LOG_LEVEL: _level, POWERTOOLS_METRICS_DISABLED: _metrics, ...rest } = process.env;
  return { ...rest, NODE_OPTIONS: '' };
}

export interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `exe args` in `cwd` to its end; `started` sees the child (to kill it on teardown). */
export function runCommand(exe: string, args: string[], cwd: string, started?: (child: ChildProcess) => void): Promise<Done> {
  return new Promise((resolve) => {
    const child = spawn(exe, args, { cwd, env: cliEnv() });
    started?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
