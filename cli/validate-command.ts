/**
 * `prokus validate FILE`: the check with a progress bar on a terminal, then the report,
 * and the exit code. Its own file: the command, apart from the check and its output.
 */
import type { Writable } from 'node:stream';
import { ValidateError, type Validation, validateProblems, validateProposal } from './validate.ts';
import {
  describeValidationError,
  formatCount,
  writeValidationErrorJson,
  writeValidationJson,
  writeValidationText,
} from './validate-report.ts';

export interface ValidateIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

export interface ValidateCommandOptions {
  district: string;
  year?: number;
  json?: boolean;
}

/** Files this large get a progress bar on a terminal; smaller ones finish before a bar would help. */
export const PROGRESS_MIN_BYTES = 2 ** 20;
export const PROGRESS_MIN_ROWS = 5000;

/**
 * A progress bar on stderr, only when stderr is a terminal (never in a pipe or a log),
 * started once the file proves large. stdout is left alone, so `--json > out.json` on a
 * terminal shows progress and writes clean JSON.
 */
async function progressBar(stderr: ValidateIo['stderr']): Promise<{
  update: (p: { bytes: number; totalBytes: number; rows: number }) => void;
  stop: () => void;
}> {
  if (!stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const { SingleBar } = (await import('cli-progress')).default;
  let bar: InstanceType<typeof SingleBar> | undefined;
  return {
    update: ({ bytes, totalBytes, rows }) => {
      if (!bar && (totalBytes > PROGRESS_MIN_BYTES || rows > PROGRESS_MIN_ROWS)) {
        bar = new SingleBar({
          stream: stderr,
          format: 'Memeriksa / checking {bar} {percentage}% | {rows} baris/rows | {eta_formatted}',
          clearOnComplete: true,
          hideCursor: true,
        });
        bar.start(totalBytes, 0, { rows: formatCount(0) });
      }
      bar?.update(bytes, { rows: formatCount(rows) });
    },
    stop: () => bar?.stop(),
  };
}

/** Runs `prokus validate FILE`; returns the exit code (0: the file could be read, whatever its rows). */
export async function runValidate(file: string, opts: ValidateCommandOptions, io: ValidateIo): Promise<number> {
  const bar = await progressBar(io.stderr);
  // Should the check ever wait on a promise that never settles, Node would empty its event
  // loop and exit 13 with nothing said (issue 7.7): say so, in the report's own form, first.
  const unsettled = () => {
    bar.stop();
    if (opts.json) writeValidationErrorJson(validateProblems.unsettled, io.stdout);
    else io.stderr.write(describeValidationError(validateProblems.unsettled));
    process.exitCode = 70;
  };
  process.once('beforeExit', unsettled);
  try {
    return await check(file, opts, io, bar);
  } finally {
    process.off('beforeExit', unsettled);
  }
}

async function check(
  file: string,
  opts: ValidateCommandOptions,
  io: ValidateIo,
  bar: Awaited<ReturnType<typeof progressBar>>,
): Promise<number> {
  let v: Validation;
  try {
    v = await validateProposal(
      { file, district: opts.district, programYear: opts.year, onProgress: bar.update },
      opts.json ? 'json' : 'text',
    );
  } catch (e) {
    bar.stop();
    if (!(e instanceof ValidateError)) throw e;
    if (opts.json) writeValidationErrorJson(e.problem, io.stdout);
    else io.stderr.write(describeValidationError(e.problem));
    return 1;
  }
  bar.stop();
  if (opts.json) await writeValidationJson(v, io.stdout);
  else await writeValidationText(v, io.stdout);
  return 0;
}
