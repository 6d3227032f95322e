/**
 * The parts of exceljs used to read a workbook's own XML parts (its sheet list, the
 * relationships that say where each part is, the styles that say which number formats
 * are dates), imported one by one so a bundle carries these and not the rest of exceljs.
 * Not part of exceljs's typed API (exceljs 4.4, pinned by the lock file).
 */
declare module 'exceljs/lib/xlsx/xform/book/workbook-xform.js' {
  export default class WorkbookXform {
    parseStream(xml: AsyncIterable<string>): Promise<unknown>;
    model?: { sheets?: { id?: number; name?: string; state?: string; rId?: string }[] };
    map: { workbookPr: { model?: { date1904?: boolean } } };
  }
}

declare module 'exceljs/lib/xlsx/xform/core/relationships-xform.js' {
  export default class RelationshipsXform {
    parseStream(
      xml: AsyncIterable<string>,
    ): Promise<{ Id?: string; Type?: string; Target?: string; TargetMode?: string }[] | undefined>;
  }
}

declare module 'exceljs/lib/xlsx/xform/style/styles-xform.js' {
  export default class StylesXform {
    init(): void;
    parseStream(xml: AsyncIterable<string>): Promise<unknown>;
    getStyleModel(id: number): { numFmt?: string } | null;
  }
}
