/**
 * The workbook's shared-string table (`xl/sharedStrings.xml`): every text cell of the
 * sheet is a number into it, so it is kept whole while the sheet is read. Kept compact
 * and outside the JavaScript heap: the UTF-8 bytes of the strings in blocks of 1 MiB,
 * and where each one is (12 bytes a string), so its memory is what the limits say,
 * SHEET_LIMITS.maxSharedStringBytes and maxSharedStrings, and not what the XML parser's
 * strings happen to hold on to.
 */
import parseSax from 'exceljs/lib/utils/parse-sax.js';
import { SheetError, sheetProblems } from './problems.ts';
import type { SheetLimits } from './types.ts';

const BLOCK = 1024 * 1024;

export class StringTable {
  #blocks: Buffer[] = [];
  #used = BLOCK;
  /** Per string: its block, its offset in the block, its length in bytes. */
  #where = new Uint32Array(3 * 1024);
  #count = 0;
  #bytes = 0;

  get size(): number {
    return this.#count;
  }

  /** UTF-8 bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  push(text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    let block: Buffer;
    if (length > BLOCK) {
      // Longer than a block (a limit raised past Excel's own): a block of its own.
      block = Buffer.from(text, 'utf8');
      this.#blocks.push(block);
      this.#used = BLOCK;
      this.#record(this.#blocks.length - 1, 0, length);
    } else {
      if (this.#used + length > BLOCK) {
        this.#blocks.push(Buffer.allocUnsafe(BLOCK));
        this.#used = 0;
      }
      block = this.#blocks[this.#blocks.length - 1] as Buffer;
      block.write(text, this.#used, 'utf8');
      this.#record(this.#blocks.length - 1, this.#used, length);
      this.#used += length;
    }
    this.#bytes += length;
  }

  get(index: number): string | undefined {
    if (!(index >= 0 && index < this.#count)) return undefined;
    const at = 3 * index;
    const block = this.#blocks[this.#where[at] as number] as Buffer;
    const offset = this.#where[at + 1] as number;
    return block.toString('utf8', offset, offset + (this.#where[at + 2] as number));
  }

  #record(block: number, offset: number, length: number) {
    if (3 * (this.#count + 1) > this.#where.length) {
      const grown = new Uint32Array(this.#where.length * 2);
      grown.set(this.#where);
      this.#where = grown;
    }
    const at = 3 * this.#count;
    this.#where[at] = block;
    this.#where[at + 1] = offset;
    this.#where[at + 2] = length;
    this.#count += 1;
  }
}

/**
 * Reads the shared strings: each `<si>` is the text of its `<t>` runs (rich text is
 * several), phonetic guides (`<rPh>`, Japanese furigana) left out, as Excel shows the cell.
 * Past a limit, a named SheetError.
 */
export async function readSharedStrings(xml: AsyncIterable<string>, limits: SheetLimits): Promise<StringTable> {
  const table = new StringTable();
  let text = '';
  let inT = false;
  let phonetic = false;
  const tooMany = () => new SheetError(sheetProblems.tooManyStrings(limits.maxSharedStrings, limits.maxSharedStringBytes));
  for await (const events of parseSax(xml)) {
    for (const event of events) {
      if (event.eventType === 'text') {
        if (inT && !phonetic) {
          text += event.value;
          if (text.length > limits.maxCellChars) throw new SheetError(sheetProblems.cellTooLong(limits.maxCellChars));
        }
        continue;
      }
      let name = event.value.name;
      const colon = name.indexOf(':');
      if (colon >= 0) name = name.slice(colon + 1);
      if (event.eventType === 'opentag') {
        if (name === 'si') text = '';
        else if (name === 't') inT = true;
        else if (name === 'rPh') phonetic = true;
        continue;
      }
      if (name === 't') inT = false;
      else if (name === 'rPh') phonetic = false;
      else if (name === 'si') {
        if (table.size >= limits.maxSharedStrings) throw tooMany();
        table.push(text);
        if (table.bytes > limits.maxSharedStringBytes) throw tooMany();
        text = '';
      }
    }
  }
  return table;
}
