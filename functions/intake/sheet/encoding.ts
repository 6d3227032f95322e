/**
 * Text encodings officers' files come in, turned into UTF-8 bytes as they stream:
 *   - UTF-8, with or without the BOM Excel's "CSV UTF-8" writes;
 *   - UTF-16 LE or BE, Excel's "Unicode text";
 *   - Windows-1252, what Excel's plain "CSV" writes on Windows set to English or
 *     Indonesian: `Sutéjo` is the byte E9, which is never valid UTF-8 before an ASCII letter.
 * A file is UTF-8 until its first non-ASCII text says otherwise: the 4 KiB from there
 * are checked, and a file that is not UTF-8 is Windows-1252 from that byte on, which is
 * the whole file read right, since everything before it was ASCII (the same in both).
 */
import { isAscii } from 'node:buffer';
import iconv from 'iconv-lite';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** How much text after the first non-ASCII byte decides between UTF-8 and Windows-1252. */
const DECIDE_BYTES = 4096;

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

function isUtf8Text(bytes: Buffer, final: boolean): boolean {
  try {
    // `stream` lets a character cut at the window's end pass; the rest must be valid.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !final });
    return true;
  } catch {
    return false;
  }
}

function firstNonAscii(buf: Buffer): number {
  for (let i = 0; i < buf.length; i += 1) if ((buf[i] as number) >= 0x80) return i;
  return -1;
}

/**
 * UTF-8 (BOM dropped) or Windows-1252, decided at the first non-ASCII text; yields
 * UTF-8. `onDecided` hears the encoding once it is known.
 */
export async function* utf8OrWindows1252(
  chunks: AsyncIterable<Buffer>,
  onDecided: (encoding: TextEncoding) => void = () => {},
): AsyncGenerator<Buffer> {
  let mode: 'ascii' | 'utf-8' | 'windows-1252' = 'ascii';
  let win1252: ReturnType<typeof iconv.getDecoder> | undefined;
  let pending: Buffer | undefined;
  let first = true;
  const decide = (window: Buffer, final: boolean) => {
    mode = isUtf8Text(window, final) ? 'utf-8' : 'windows-1252';
    if (mode === 'windows-1252') win1252 = iconv.getDecoder('windows-1252');
    onDecided(mode);
  };
  const emit = (buf: Buffer): Buffer => (win1252 ? Buffer.from(win1252.write(buf), 'utf8') : buf);

  for await (const incoming of chunks) {
    let chunk = incoming;
    if (first) {
      first = false;
      if (UTF8_BOM.every((b, i) => chunk[i] === b)) {
        chunk = chunk.subarray(3);
        mode = 'utf-8';
        onDecided(mode);
      }
    }
    if (mode !== 'ascii') {
      if (chunk.length > 0) yield emit(chunk);
      continue;
    }
    if (pending) {
      chunk = Buffer.concat([pending, chunk]);
      pending = undefined;
    }
    if (isAscii(chunk)) {
      if (chunk.length > 0) yield chunk;
      continue;
    }
    const at = firstNonAscii(chunk);
    if (chunk.length - at < DECIDE_BYTES) {
      // Not enough text after it yet: wait for the next chunk.
      if (at > 0) yield chunk.subarray(0, at);
      pending = chunk.subarray(at);
      continue;
    }
    decide(chunk.subarray(at, at + DECIDE_BYTES), false);
    if (at > 0) yield chunk.subarray(0, at);
    yield emit(chunk.subarray(at));
  }
  if (pending) {
    decide(pending, true);
    yield emit(pending);
  }
  if (mode === 'ascii') onDecided('utf-8');
  const tail = win1252?.end();
  if (tail) yield Buffer.from(tail, 'utf8');
}

/** UTF-16 (BOM dropped) as UTF-8; a character split between chunks is kept whole. */
export async function* utf16(chunks: AsyncIterable<Buffer>, encoding: 'utf-16le' | 'utf-16be'): AsyncGenerator<Buffer> {
  const decoder = iconv.getDecoder(encoding === 'utf-16le' ? 'utf16le' : 'utf16be');
  for await (const chunk of chunks) {
    const text = decoder.write(chunk);
    if (text) yield Buffer.from(text, 'utf8');
  }
  const tail = decoder.end();
  if (tail) yield Buffer.from(tail, 'utf8');
}

/** The start of a file as text, good enough to find separators and quotes (all ASCII). */
export function headText(head: Buffer, encoding: 'auto' | 'utf-16le' | 'utf-16be'): string {
  if (encoding === 'auto') {
    const start = UTF8_BOM.every((b, i) => head[i] === b) ? head.subarray(3) : head;
    return start.toString('latin1');
  }
  return iconv.decode(head.subarray(0, head.length & ~1), encoding === 'utf-16le' ? 'utf16le' : 'utf16be');
}
