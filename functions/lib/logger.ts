/**
 * Structured JSON logs: Powertools Logger, service `prokus`, level from LOG_LEVEL
 * (trace, debug, info, warn, error, critical, silent). taskHandler and the pages handler
 * add the Lambda context (request id, cold start, function name) and, for a task, the
 * case id to every line of an invocation.
 *
 * Log lines carry case ids, codes and counts, never NIK, KK, names, addresses or phone
 * numbers. `redact` is a second line of defence for when someone logs a whole record by
 * mistake: it runs on every key at every depth of every line, before Powertools
 * serializes it.
 *
 * On Lambda, lines go to stdout (CloudWatch Logs). The embedded runtime sets
 * PROKUS_LOG_FILE: then every line, and the metrics' EMF blobs (lib/metrics.ts), go to
 * that one file instead, so the terminal stays for the people using it.
 */
import { Console } from 'node:console';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { SERVICE_NAME } from './metric-names.ts';

/** Keys whose values never reach a log line, wherever they sit in what was logged. */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  'nik',
  'kk',
  'nama',
  'alamat',
  'noHp',
  'tanggalLahir',
  'pendamping',
  'personal',
  'taskToken',
]);

export const REDACTED = '[redacted]';

/** A NIK or a KK number: 16 digits standing alone. Hashes and ids are hex or base64url, never that. */
const IDENTITY_NUMBER = /\b\d{16}\b/g;

/** Powertools' `jsonReplacerFn`: called for every key/value pair of a log line. */
export function redact(key: string, value: unknown): unknown {
  if (REDACTED_KEYS.has(key)) return REDACTED;
  if (typeof value === 'string') return value.replace(IDENTITY_NUMBER, REDACTED);
  return value;
}

// ---- where lines go ----

let file: WriteStream | undefined;
let fileConsole: Console | undefined;
let filePath: string | undefined;

function logFileConsole(): Console | undefined {
  const path = process.env.PROKUS_LOG_FILE;
  if (!path) return undefined;
  if (!fileConsole || path !== filePath) {
    mkdirSync(dirname(path), { recursive: true });
    // Another runtime in this process (tests) logs to its own file; the last one's is flushed and closed.
    file?.end();
    file = createWriteStream(path, { flags: 'a' });
    filePath = path;
    const target = new Console({ stdout: file, stderr: file });
    // As Powertools does for its own console: `trace` is a level, not a stack dump.
    target.trace = (...args: unknown[]) => target.log(...args);
    fileConsole = target;
  }
  return fileConsole;
}

/** The utilities that print (Logger, Metrics), so useLogFile can point all of them. */
const printers = new Set<object>();

function point(utility: object): void {
  const target = logFileConsole();
  if (target) Reflect.set(utility, 'console', target);
}

/**
 * Points a Powertools utility (Logger, Metrics) at the log file when there is one.
 * Both print through a `console` of their own (a Console on stdout, for Lambda) and
 * offer no option for another: it is a private field, set here by name. The tests of
 * the log file (test/functions/logs.test.ts, metrics.test.ts) fail if a Powertools
 * release renames it.
 */
export function printToLogFile(utility: object): void {
  printers.add(utility);
  point(utility);
}

/**
 * Points every utility at PROKUS_LOG_FILE as it is now. The embedded runtime calls it once
 * it has set the environment, so when this module was first imported does not matter.
 */
export function useLogFile(): void {
  for (const utility of printers) point(utility);
}

/** Resolves once every line written so far is in the log file (the embedded runtime, on stop). */
export function flushLogs(): Promise<void> {
  const stream = file;
  if (!stream || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export const logger = new Logger({
  serviceName: SERVICE_NAME,
  // Powertools reads LOG_LEVEL itself only in capitals; given here, any case works (an unknown level means INFO).
  logLevel: (process.env.LOG_LEVEL ?? 'info') as LogLevel,
  jsonReplacerFn: redact,
});
printToLogFile(logger);
