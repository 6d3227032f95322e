/**
 * Text encodings officers' files come in, turned into UTF-8 bytes as they stream:
 *   - UTF-8, with or without the BOM Excel's "CSV UTF-8" writes;
 *   - UTF-16 LE or BE, Excel's "Unicode text";
 *   - Windows-1252, what Excel's plain "CSV" writes on Windows set to English or
 *     Indonesian: `Sutéjo` is the byte E9, which is never valid UTF-8 before an ASCII letter.
 * A file is UTF-8 until its first non-ASCII text says otherwise: the 4 KiB from there
 * are checked, and a file that is not UTF-8 is Windows-1252 from that byte on, which is
 * the whole file read right, since everything before it was ASCII (the same in both).
 *
 * Node's own decoders do the work (no iconv-lite: it bundles the tables of every
 * encoding it knows, ~490 KB of the ReadProposal Lambda, for the two used here).
 */
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

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

/**
 * Windows-1252's bytes 0x80-0x9F; every other byte is the Latin-1 code point of the same
 * number. The five bytes Windows-1252 leaves unassigned read as U+FFFD.
 */
const WINDOWS_1252_80_9F = '€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ';

/** Windows-1252 bytes as UTF-8; one byte is one character, so chunks need no carry-over. */
function windows1252ToUtf8(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_80_9F[c.charCodeAt(0) - 0x80] as string);
  return Buffer.from(text, 'utf8');
}

/**
 * UTF-16 as text, chunk by chunk: a character cut between chunks (half a code unit, or
 * half a surrogate pair) comes out whole with the next chunk; a BOM at the start is
 * dropped; an odd last byte is dropped.
 */
class Utf16Decoder {
  readonly #decoder = new StringDecoder('utf16le');
  #carry: number | undefined;
  #started = false;

  constructor(readonly encoding: 'utf-16le' | 'utf-16be') {}

  write(chunk: Buffer): string {
    let text = this.#decoder.write(this.encoding === 'utf-16le' ? chunk : this.#swapped(chunk));
    if (!this.#started && text) {
      this.#started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    return text;
  }

  end(): string {
    return this.#decoder.end();
  }

  /** Big-endian code units turned little-endian, a byte left over kept for the next chunk. */
  #swapped(chunk: Buffer): Buffer {
    const bytes = this.#carry === undefined ? chunk : Buffer.concat([Buffer.of(this.#carry), chunk]);
    const even = bytes.length & ~1;
    this.#carry = even < bytes.length ? bytes[even] : undefined;
    const out = Buffer.allocUnsafe(even);
    for (let i = 0; i < even; i += 2) {
      out[i] = bytes[i + 1] as number;
      out[i + 1] = bytes[i] as number;
    }
    return out;
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
  let pending: Buffer | undefined;
  let first = true;
  const decide = (window: Buffer, final: boolean) => {
    mode = isUtf8Text(window, final) ? 'utf-8' : 'windows-1252';
    onDecided(mode);
  };
  const emit = (buf: Buffer): Buffer => (mode === 'windows-1252' ? windows1252ToUtf8(buf) : buf);

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
}

/** UTF-16 (BOM dropped) as UTF-8; a character split between chunks is kept whole. */
export async function* utf16(chunks: AsyncIterable<Buffer>, encoding: 'utf-16le' | 'utf-16be'): AsyncGenerator<Buffer> {
  const decoder = new Utf16Decoder(encoding);
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
  const decoder = new Utf16Decoder(encoding);
  return decoder.write(head.subarray(0, head.length & ~1)) + decoder.end();
}
