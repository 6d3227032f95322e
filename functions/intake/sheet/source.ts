/**
 * The bytes of an uploaded file: the first few kilobytes to recognise what it is, then
 * every byte in order, counted against the size limit. What a file is comes from its
 * bytes: officers rename files, and other systems export web pages named `.xls`.
 */

import { type FileProblem, SheetError, sheetProblems } from './problems.ts';
import type { SheetInput } from './types.ts';

/** Enough to recognise any format and, for text, to see the first rows. */
export const HEAD_BYTES = 64 * 1024;

export interface ByteSource {
  /** The first bytes of the file (at least HEAD_BYTES unless the file is shorter). */
  head: Buffer;
  /** Every byte, head first; throws SheetError past the size limit. Single use. */
  chunks: AsyncGenerator<Buffer>;
  /** Stops reading and releases the input. */
  cancel(): void;
}

async function* raw(input: SheetInput): AsyncGenerator<Buffer> {
  if (typeof input === 'string') {
    yield Buffer.from(input, 'utf8');
    return;
  }
  if (input instanceof Uint8Array) {
    yield Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    return;
  }
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

export async function openSource(input: SheetInput, maxBytes: number): Promise<ByteSource> {
  const source = raw(input);
  const first: Buffer[] = [];
  let size = 0;
  while (size < HEAD_BYTES) {
    const next = await source.next();
    if (next.done) break;
    first.push(next.value);
    size += next.value.length;
  }
  const head = first.length === 1 && first[0] ? first[0] : Buffer.concat(first);
  let cancelled = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      let total = head.length;
      if (total > maxBytes) throw new SheetError(sheetProblems.tooLarge(maxBytes));
      yield head;
      for await (const chunk of source) {
        total += chunk.length;
        if (total > maxBytes) throw new SheetError(sheetProblems.tooLarge(maxBytes));
        yield chunk;
      }
    } finally {
      await source.return(undefined);
    }
  }
  return {
    head,
    chunks: chunks(),
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      // Ends the input's iteration, which destroys a stream (an S3 body, a file).
      source.return(undefined).catch(() => undefined);
    },
  };
}

export type Recognised =
  | { format: 'xlsx' }
  | { format: 'text'; encoding: 'auto' | 'utf-16le' | 'utf-16be' }
  | { problem: FileProblem };

const starts = (buf: Buffer, bytes: readonly number[], at = 0) => bytes.every((b, i) => buf[at + i] === b);

/**
 * UTF-16 text: Excel's "Unicode text" starts with a byte order mark; without one, text
 * of Latin letters has a zero in every other byte.
 */
export function utf16Of(head: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  if (starts(head, [0xff, 0xfe])) return 'utf-16le';
  if (starts(head, [0xfe, 0xff])) return 'utf-16be';
  const n = Math.min(head.length, 1024) & ~1;
  if (n < 8) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even += 1;
    if (head[i + 1] === 0) odd += 1;
  }
  const pairs = n / 2;
  if (odd >= pairs * 0.9 && even === 0) return 'utf-16le';
  if (even >= pairs * 0.9 && odd === 0) return 'utf-16be';
  return undefined;
}

/** What the file is, from its first bytes; the name only words a message. */
export function recognise(head: Buffer, fileName?: string): Recognised {
  if (head.length === 0) return { problem: sheetProblems.empty };
  if (starts(head, [0x50, 0x4b, 0x03, 0x04])) {
    // OpenDocument puts an uncompressed `mimetype` entry first, as the zip's first file.
    const firstEntry = head.subarray(30, 120).toString('latin1');
    if (firstEntry.startsWith('mimetype') && firstEntry.includes('opendocument')) return { problem: sheetProblems.openDocument };
    return { format: 'xlsx' };
  }
  if (starts(head, [0x50, 0x4b, 0x05, 0x06])) return { problem: sheetProblems.notWorkbook };
  // OLE compound file: Excel 97-2003, and also any password-protected Office file.
  if (starts(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return { problem: sheetProblems.oldExcel };
  if (starts(head, [0x25, 0x50, 0x44, 0x46])) return { problem: sheetProblems.pdf };
  if (
    starts(head, [0x89, 0x50, 0x4e, 0x47]) ||
    starts(head, [0xff, 0xd8, 0xff]) ||
    starts(head, [0x47, 0x49, 0x46, 0x38]) ||
    starts(head, [0x49, 0x49, 0x2a, 0x00]) ||
    starts(head, [0x4d, 0x4d, 0x00, 0x2a]) ||
    (starts(head, [0x52, 0x49, 0x46, 0x46]) && starts(head, [0x57, 0x45, 0x42, 0x50], 8))
  ) {
    return { problem: sheetProblems.image };
  }
  const utf16 = utf16Of(head);
  if (utf16) return { format: 'text', encoding: utf16 };
  if (head.includes(0x00)) return { problem: sheetProblems.binary };
  const start = head
    .subarray(0, 512)
    .toString('latin1')
    .replace(/^\u00ef\u00bb\u00bf/, '')
    .trimStart();
  if (/^<(\?xml|!doctype|html|table|head|body|meta|workbook)\b/i.test(start)) return { problem: sheetProblems.markup(fileName) };
  return { format: 'text', encoding: 'auto' };
}
