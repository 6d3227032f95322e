/**
 * exceljs's own SAX helper (saxes underneath), used by xlsx.ts to read worksheet
 * XML without exceljs's per-cell object model. Not part of exceljs's typed API.
 */
declare module 'exceljs/lib/utils/parse-sax.js' {
  export interface SaxTag {
    name: string;
    attributes: Record<string, string>;
  }
  export type SaxEvent =
    | { eventType: 'opentag'; value: SaxTag }
    | { eventType: 'closetag'; value: SaxTag }
    | { eventType: 'text'; value: string };
  /** Parses XML given as strings (or buffers, decoded chunk by chunk), yielding the events of each chunk. */
  export default function parseSax(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<SaxEvent[]>;
}
