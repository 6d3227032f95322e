/**
 * exceljs's stream workbook reader as its own module (what `ExcelJS.stream.xlsx.WorkbookReader`
 * is), imported directly so a bundle carries the reader and not the rest of exceljs.
 */
declare module 'exceljs/lib/stream/xlsx/workbook-reader.js' {
  import type ExcelJS from 'exceljs';

  const WorkbookReader: typeof ExcelJS.stream.xlsx.WorkbookReader;
  export default WorkbookReader;
}
