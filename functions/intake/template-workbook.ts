/**
 * The XLSX template, built with exceljs from the content in template-file.ts. `prokus
 * template` writes it; the upload page serves the same workbook from template-xlsx.ts,
 * generated from this by `npx tsx cli/template-asset.ts` (exceljs would more than double
 * the pages' bundle), and test/cli/template-asset.test.ts fails when the two differ.
 */
import ExcelJS from 'exceljs';
import type { ProposalColumn } from './proposal.ts';
import { PROPOSAL_COLUMNS } from './proposal.ts';
import {
  COLUMN_GUIDE,
  COMMON_MISTAKES,
  FORMATTED_ROWS,
  GUIDE_SHEET,
  TEMPLATE_COLUMNS,
  TEMPLATE_SHEET,
  TEXT_COLUMNS,
} from './template-file.ts';

/** An exceljs list validation over a range: the API exists but its typings only cover single cells. */
interface RangeValidations {
  add(range: string, validation: ExcelJS.DataValidation): void;
}

function exampleCell(column: ProposalColumn): string | number | Date {
  const value = COLUMN_GUIDE[column].example;
  if (column === 'tanggal_lahir') {
    const [d, m, y] = value.split('/');
    return new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  }
  if (column === 'lama_usaha_bulan' || column === 'omzet_bulanan') return Number(value);
  return value;
}

const columnLetter = (index: number) => String.fromCharCode(65 + index);

export function templateWorkbook(): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Prokus Workflow';
  const sheet = workbook.addWorksheet(TEMPLATE_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = TEMPLATE_COLUMNS.map((name) => ({
    header: name,
    key: name,
    width: COLUMN_GUIDE[name].width,
    // Column styles apply to every cell the officer types into, not only the example.
    style: TEXT_COLUMNS.includes(name)
      ? { numFmt: '@' }
      : name === 'tanggal_lahir'
        ? { numFmt: 'dd/mm/yyyy' }
        : name === 'omzet_bulanan'
          ? { numFmt: '#,##0' }
          : {},
  }));
  const header = sheet.getRow(1);
  header.font = { bold: true };
  header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFD9E1F2' } };
  const example = sheet.addRow(TEMPLATE_COLUMNS.map(exampleCell));
  example.font = { italic: true, color: { argb: 'FF808080' } };
  const sexColumn = columnLetter(TEMPLATE_COLUMNS.indexOf('jenis_kelamin'));
  (sheet as unknown as { dataValidations: RangeValidations }).dataValidations.add(`${sexColumn}2:${sexColumn}${FORMATTED_ROWS}`, {
    type: 'list',
    allowBlank: true,
    formulae: ['"L,P"'],
    showErrorMessage: true,
    errorTitle: 'L / P',
    error: 'Isi L (laki-laki) atau P (perempuan) / Enter L (male) or P (female)',
  });

  const guide = workbook.addWorksheet(GUIDE_SHEET);
  guide.columns = [
    { header: 'kolom / column', width: 18 },
    { header: 'wajib / required', width: 10 },
    { header: 'isi (Bahasa Indonesia)', width: 70 },
    { header: 'content (English)', width: 70 },
    { header: 'contoh / example', width: 32 },
  ];
  guide.getRow(1).font = { bold: true };
  for (const c of PROPOSAL_COLUMNS) {
    const g = COLUMN_GUIDE[c.name];
    guide.addRow([c.name, c.required ? 'ya / yes' : 'tidak / no', g.content.id, g.content.en, g.example]);
  }
  guide.addRow([]);
  guide.addRow(['Kesalahan umum / common mistakes']).font = { bold: true };
  for (const m of COMMON_MISTAKES) guide.addRow(['', '', m.id, m.en]);
  for (const col of [3, 4]) guide.getColumn(col).alignment = { wrapText: true, vertical: 'top' };
  return workbook;
}
