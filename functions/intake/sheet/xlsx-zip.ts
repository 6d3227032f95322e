/**
 * A workbook's zip, read from memory with yauzl: its directory (at the end of the file)
 * says where every part is and how large it is once inflated, so only the parts the
 * reader needs are inflated, in the order it needs them, and nothing is written to disk.
 * A part whose size says it is over the limit is refused before a byte of it is
 * inflated; yauzl checks the size said against the bytes inflated, so a part cannot lie
 * its way past the limit. A damaged zip is an error, never a wait: every step settles.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { type Entry, fromBufferPromise, type ZipFile } from 'yauzl';
import { SheetError, sheetProblems } from './problems.ts';
import type { SheetLimits } from './types.ts';

export interface Workbook {
  /** The part of this name (any case, as OPC part names are), if the zip has one. */
  part(name: string): Entry | undefined;
  /**
   * The part's XML as text, decoded as one stream (a character cut between two inflated
   * chunks stays whole), with the XML limits applied. Ending its iteration, however it
   * ends, lets go of the inflater.
   */
  xml(entry: Entry): AsyncGenerator<string>;
  close(): void;
}

/** The workbook's bytes as one buffer: at most `maxBytes`, which the source enforces. */
export async function wholeFile(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of chunks) {
    parts.push(c);
    total += c.length;
  }
  return parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, total);
}

const damaged = (e: unknown) => (e instanceof SheetError ? e : new SheetError(sheetProblems.xlsxDamaged, { cause: e }));

/** Opens the zip and reads its directory; a zip that is not one is FILE_MALFORMED. */
export async function openWorkbookZip(bytes: Buffer, limits: SheetLimits): Promise<Workbook> {
  let zip: ZipFile;
  try {
    zip = await fromBufferPromise(bytes, { lazyEntries: true, validateEntrySizes: true, decodeStrings: true });
  } catch (e) {
    throw damaged(e);
  }
  const parts = new Map<string, Entry>();
  try {
    if (zip.entryCount > limits.maxZipEntries) throw new SheetError(sheetProblems.tooManyParts(limits.maxZipEntries));
    for await (const entry of zip.eachEntry()) {
      if (!entry.fileName.endsWith('/')) parts.set(entry.fileName.toLowerCase(), entry);
    }
  } catch (e) {
    zip.close();
    throw damaged(e);
  }
  return {
    part: (name) => parts.get(name.replace(/^\/+/, '').toLowerCase()),
    xml: (entry) => partXml(zip, entry, limits),
    close: () => zip.close(),
  };
}

async function* partXml(zip: ZipFile, entry: Entry, limits: SheetLimits): AsyncGenerator<string> {
  if (entry.uncompressedSize > limits.maxPartBytes) throw new SheetError(sheetProblems.partTooLarge(limits.maxPartBytes));
  let stream: Readable | undefined;
  try {
    stream = await zip.openReadStreamPromise(entry);
    yield* guardedText(stream, limits.maxXmlRun);
  } catch (e) {
    throw damaged(e);
  } finally {
    stream?.destroy();
  }
}

/**
 * UTF-8 XML as strings, decoded as one stream, refused when more than `maxRun`
 * characters come without a `<`: the XML parser gathers a text, a tag or a comment whole
 * before it hands it on, so a gigabyte of spaces would be one gigabyte-long string.
 */
export async function* guardedText(chunks: AsyncIterable<Buffer | string>, maxRun: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let run = 0;
  const check = (text: string) => {
    let from = 0;
    for (let at = text.indexOf('<'); at >= 0; at = text.indexOf('<', from)) {
      if (run + at - from > maxRun) throw new SheetError(sheetProblems.xmlRunTooLong(maxRun));
      run = 0;
      from = at + 1;
    }
    run += text.length - from;
    if (run > maxRun) throw new SheetError(sheetProblems.xmlRunTooLong(maxRun));
  };
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (!text) continue;
    check(text);
    yield text;
  }
  const tail = decoder.decode();
  if (tail) {
    check(tail);
    yield tail;
  }
}

/** Where a relationship's target is: relative to the folder of the part that names it. */
export function resolveTarget(fromPart: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  return posix.normalize(posix.join(posix.dirname(fromPart), target));
}

/** The relationships part of a part: `xl/workbook.xml` → `xl/_rels/workbook.xml.rels`. */
export function relsOf(part: string): string {
  return posix.join(posix.dirname(part), '_rels', `${posix.basename(part)}.rels`);
}
