/**
 * Where the engine keeps execution records and their history: in memory, or appended
 * to two JSON Lines files in `stateDir` so ListExecutions and GetExecutionHistory
 * survive a restart, `kill -9` included. Nothing is ever rewritten:
 *
 * - `executions.jsonl`: a `start` line when an execution starts, an `end` line when it
 *   stops, a `redrive` line when RedriveExecution sets it running again (the record is
 *   its lines merged in order);
 * - `history.jsonl`: one line per history event, `{"n": <execution number>, "e": {...}}`.
 *
 * Only the records and, per execution, the byte offsets of its history lines are held
 * in memory; events are read back from the file when asked for. Lines are buffered for
 * one turn of the event loop and written with one write call; a line cut short by a
 * crash is dropped (and the file truncated to the last whole line) when opened again.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { HistoryEvent } from './history.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Times RedriveExecution ran it again (absent: never), and when it last did. */
  redriveCount?: number;
  redriveDate?: Date;
}

/** One accepted RedriveExecution call and its clientToken, for answering the same token again. */
export interface Redrive {
  token?: string;
  redriveDate: Date;
}

export interface StoredExecution {
  n: number;
  record: ExecutionRecord;
  eventCount: number;
  /** Its redrives so far, oldest first. */
  redrives: Redrive[];
}

export interface ExecutionStore {
  /** Every execution stored so far, in start order. */
  load(): StoredExecution[];
  appendStart(n: number, record: ExecutionRecord): void;
  appendEnd(n: number, record: ExecutionRecord): void;
  /** The execution runs again (record.redriveCount, record.redriveDate), asked with `token`. */
  appendRedrive(n: number, record: ExecutionRecord, token: string | undefined): void;
  appendEvent(n: number, event: HistoryEvent): void;
  /** Events `from` (inclusive) to `to` (exclusive), by position in the execution's history. */
  readEvents(n: number, from: number, to: number): HistoryEvent[];
  eventCount(n: number): number;
  flush(): void;
  close(): void;
}

export class MemoryStore implements ExecutionStore {
  private readonly events = new Map<number, HistoryEvent[]>();
  load(): StoredExecution[] {
    return [];
  }
  appendStart(): void {}
  appendEnd(): void {}
  appendRedrive(): void {}
  appendEvent(n: number, event: HistoryEvent): void {
    const list = this.events.get(n);
    if (list) list.push(event);
    else this.events.set(n, [event]);
  }
  readEvents(n: number, from: number, to: number): HistoryEvent[] {
    return (this.events.get(n) ?? []).slice(from, to);
  }
  eventCount(n: number): number {
    return this.events.get(n)?.length ?? 0;
  }
  flush(): void {}
  close(): void {}
}

const Status = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const StartLine = z.object({
  n: z.number().int(),
  k: z.literal('start'),
  arn: z.string(),
  sm: z.string(),
  name: z.string(),
  start: z.number(),
  input: z.string(),
});
type StartLine = z.infer<typeof StartLine>;
const EndLine = z.object({
  n: z.number().int(),
  k: z.literal('end'),
  status: Status,
  stop: z.number(),
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});
type EndLine = z.infer<typeof EndLine>;
const RedriveLine = z.object({
  n: z.number().int(),
  k: z.literal('redrive'),
  count: z.number().int().min(1),
  date: z.number(),
  token: z.string().optional(),
});
type RedriveLine = z.infer<typeof RedriveLine>;
type Line = StartLine | EndLine | RedriveLine;
const ExecutionLine = z.discriminatedUnion('k', [StartLine, EndLine, RedriveLine]);
/** A stored event: the SDK's HistoryEvent with the timestamp as epoch milliseconds. */
const EventLine = z.object({
  e: z.looseObject({ id: z.number().int(), type: z.string(), timestamp: z.number() }),
});

const CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** An append-only file of lines, with the offset of every whole line kept by the caller. */
class LineFile {
  readonly fd: number;
  /** Bytes on disk plus bytes buffered. */
  size = 0;
  private buffered: string[] = [];

  constructor(path: string) {
    this.fd = openSync(path, 'a+');
  }

  /**
   * Calls `line` for every whole line (only its first `head` bytes when given); drops
   * (truncates) a torn last line.
   */
  scan(line: (text: string, offset: number, length: number) => void, head = Number.POSITIVE_INFINITY): void {
    const total = fstatSync(this.fd).size;
    const chunk = Buffer.alloc(CHUNK);
    let carry = Buffer.alloc(0);
    let position = 0;
    let lineStart = 0;
    while (position < total) {
      const read = readSync(this.fd, chunk, 0, Math.min(CHUNK, total - position), position);
      if (read <= 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      const base = position - carry.length;
      let from = 0;
      for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, from)) {
        line(data.toString('utf8', from, Math.min(i, from + head)), base + from, i + 1 - from);
        from = i + 1;
      }
      lineStart = base + from;
      carry = Buffer.from(data.subarray(from));
      position += read;
    }
    if (lineStart < total) ftruncateSync(this.fd, lineStart);
    this.size = lineStart;
  }

  /** Buffers one line; returns its offset and byte length. */
  append(text: string): { offset: number; length: number } {
    const line = `${text}\n`;
    const length = Buffer.byteLength(line);
    const offset = this.size;
    this.buffered.push(line);
    this.size += length;
    return { offset, length };
  }

  flush(): void {
    if (this.buffered.length === 0) return;
    const data = Buffer.from(this.buffered.join(''));
    this.buffered = [];
    let written = 0;
    while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
  }

  read(offset: number, length: number): string {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const read = readSync(this.fd, buffer, done, length - done, offset + done);
      if (read <= 0) break;
      done += read;
    }
    return buffer.toString('utf8', 0, done);
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export class FileStore implements ExecutionStore {
  private readonly executions: LineFile;
  private readonly history: LineFile;
  /** Per execution: offset and length of each history line, interleaved [o0, l0, o1, l1, …]. */
  private readonly index = new Map<number, number[]>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.executions = new LineFile(join(dir, 'executions.jsonl'));
    this.history = new LineFile(join(dir, 'history.jsonl'));
  }

  load(): StoredExecution[] {
    const byNumber = new Map<number, StoredExecution>();
    this.executions.scan((text) => {
      const line = parseLine(text);
      if (!line) return;
      if (line.k === 'start') {
        byNumber.set(line.n, {
          n: line.n,
          eventCount: 0,
          redrives: [],
          record: {
            executionArn: line.arn,
            stateMachineArn: line.sm,
            name: line.name,
            status: 'RUNNING',
            startDate: new Date(line.start),
            input: line.input,
          },
        });
        return;
      }
      const stored = byNumber.get(line.n);
      if (!stored) return;
      if (line.k === 'redrive') {
        redriven(stored.record, line.count, new Date(line.date));
        stored.redrives.push({ token: line.token, redriveDate: new Date(line.date) });
        return;
      }
      Object.assign(stored.record, {
        status: line.status,
        stopDate: new Date(line.stop),
        output: line.output,
        error: line.error,
        cause: line.cause,
      });
    });
    // History lines start with {"n":<number>,: that is all the index needs from them.
    this.history.scan((text, offset, length) => {
      const m = /^\{"n":(\d+),/.exec(text);
      if (!m) return;
      const n = Number(m[1]);
      const list = this.index.get(n);
      if (list) list.push(offset, length);
      else this.index.set(n, [offset, length]);
    }, 24);
    for (const stored of byNumber.values()) stored.eventCount = this.eventCount(stored.n);
    return [...byNumber.values()].sort((a, b) => a.n - b.n);
  }

  appendStart(n: number, r: ExecutionRecord): void {
    if (this.closed) return;
    const line: StartLine = {
      n,
      k: 'start',
      arn: r.executionArn,
      sm: r.stateMachineArn,
      name: r.name,
      start: r.startDate.getTime(),
      input: r.input,
    };
    this.executions.append(JSON.stringify(line));
    this.schedule();
  }

  appendEnd(n: number, r: ExecutionRecord): void {
    if (this.closed) return;
    const line: EndLine = {
      n,
      k: 'end',
      status: r.status,
      stop: (r.stopDate ?? new Date()).getTime(),
      output: r.output,
      error: r.error,
      cause: r.cause,
    };
    this.executions.append(JSON.stringify(line));
    this.schedule();
  }

  appendRedrive(n: number, r: ExecutionRecord, token: string | undefined): void {
    if (this.closed) return;
    const line: RedriveLine = { n, k: 'redrive', count: r.redriveCount ?? 1, date: (r.redriveDate ?? new Date()).getTime() };
    if (token !== undefined) line.token = token;
    this.executions.append(JSON.stringify(line));
    this.schedule();
  }

  appendEvent(n: number, event: HistoryEvent): void {
    if (this.closed) return;
    const e = { ...event, timestamp: event.timestamp?.getTime() };
    const { offset, length } = this.history.append(JSON.stringify({ n, e }));
    const list = this.index.get(n);
    if (list) list.push(offset, length);
    else this.index.set(n, [offset, length]);
    this.schedule();
  }

  readEvents(n: number, from: number, to: number): HistoryEvent[] {
    const list = this.index.get(n);
    if (!list) return [];
    if (this.closed) throw Object.assign(new Error('the embedded engine is closed'), { name: 'ServiceUnavailable' });
    this.flush();
    const events: HistoryEvent[] = [];
    const end = Math.min(to, list.length / 2);
    for (let i = Math.max(0, from); i < end; i++) {
      const text = this.history.read(list[2 * i] as number, list[2 * i + 1] as number);
      const { e } = EventLine.parse(JSON.parse(text));
      events.push({ ...e, timestamp: new Date(e.timestamp) } as HistoryEvent);
    }
    return events;
  }

  eventCount(n: number): number {
    return (this.index.get(n)?.length ?? 0) / 2;
  }

  flush(): void {
    if (this.closed) return;
    if (this.flushScheduled) {
      clearImmediate(this.flushScheduled);
      this.flushScheduled = undefined;
    }
    this.executions.flush();
    this.history.flush();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.executions.close();
    this.history.close();
  }

  private schedule(): void {
    this.flushScheduled ??= setImmediate(() => {
      this.flushScheduled = undefined;
      this.flush();
    });
  }
}

/** A redrive sets the record running again: its last outcome goes, its start stays. */
export function redriven(record: ExecutionRecord, count: number, date: Date): void {
  Object.assign(record, { status: 'RUNNING', redriveCount: count, redriveDate: date });
  delete record.stopDate;
  delete record.output;
  delete record.error;
  delete record.cause;
}

function parseLine(text: string): Line | undefined {
  try {
    const parsed = ExecutionLine.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
