/**
 * Import of the PKH graduation registry (from the Directorate of Family Social
 * Security) that verification matches families against. The registry is keyed by the
 * keyed hash of the NIK: it never holds the NIK itself.
 *
 * Registry file (CSV or XLSX, read like proposal files: any separator and encoding; a
 * header row matched ignoring case, spaces, dots and underscores):
 *   nik                    16-digit NIK of the family's PKH recipient (any district: the registry is national)
 *   tanggal_graduasi       date the family graduated from PKH (YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY); empty = not graduated
 *   desil                  socio-economic decile in DTSEN, 1-10
 *   tahun_penerima_prokus  program year of an earlier Prokus grant (e.g. 2019); empty = none
 * A NIK listed again replaces what an earlier import said about it; within one file the
 * first row stands and later ones are rejected.
 */
import { ProkusError } from '#domain/errors';
import { cleanIdNumber, isScientificNotation } from '#domain/nik';
import type { RegistryEntry } from '#domain/registry-entry';
import {
  type CellKind,
  type ColumnSpec,
  cellsByName,
  matchHeader,
  openSheet,
  parseDate,
  type Sheet,
  SheetError,
  type SheetInput,
} from '#intake/sheet';
import { Pool } from '#lib/pool';
import { hashId, loadKeys } from '#lib/secrets';
import { putRegistryEntry } from '#store/registry';

export const REGISTRY_COLUMNS = [
  { name: 'nik', required: true },
  { name: 'tanggal_graduasi', required: true },
  { name: 'desil', required: true },
  { name: 'tahun_penerima_prokus', required: true },
] as const satisfies readonly ColumnSpec[];

type RegistryColumn = (typeof REGISTRY_COLUMNS)[number]['name'];

export interface RegistryRejection {
  row: number;
  code: string;
  message: { id: string; en: string };
}

export interface RegistryImport {
  imported: number;
  rejected: RegistryRejection[];
}

/** A registry file that cannot be read at all; nothing from it was imported. */
export class RegistryFileError extends ProkusError {
  readonly name = 'RegistryFileError';
}

const WRITES_IN_FLIGHT = 16;

type RowCheck = { ok: true; nik: string; entry: Omit<RegistryEntry, 'nikHash' | 'importedAt'> } | RegistryRejection;

/**
 * The checks of one registry row; the first problem is enough for a machine-made file.
 * `nikKind` (XLSX) says what the NIK cell held: a number cell has lost the last digit.
 */
export function checkRegistryRow(row: number, values: Partial<Record<RegistryColumn, string>>, nikKind?: CellKind): RowCheck {
  const get = (name: RegistryColumn) => (values[name] ?? '').trim();
  const reject = (code: string, id: string, en: string): RegistryRejection => ({ row, code, message: { id, en } });

  const rawNik = get('nik');
  if (nikKind === 'number') {
    return reject(
      'NIK_NUMERIC_CELL',
      'NIK tersimpan sebagai angka (Excel hanya menyimpan 15 digit); format kolom nik sebagai Teks dan isi ulang.',
      'The NIK is stored as a number (Excel keeps only 15 digits); format the nik column as Text and fill it again.',
    );
  }
  if (isScientificNotation(rawNik)) {
    return reject(
      'NIK_SCIENTIFIC_NOTATION',
      'NIK terbaca sebagai angka ilmiah (mis. 3,21E+15); format kolom nik sebagai Teks.',
      'The NIK reads as scientific notation (e.g. 3.21E+15); format the nik column as Text.',
    );
  }
  const nik = cleanIdNumber(rawNik);
  if (!/^\d{16}$/.test(nik)) return reject('NIK_NOT_16_DIGITS', 'NIK harus 16 digit angka.', 'The NIK must be 16 digits.');
  if (nik.endsWith('0000')) {
    return reject(
      'NIK_SERIAL_ZERO',
      'Empat digit terakhir NIK tidak boleh 0000.',
      'The last four digits of the NIK cannot be 0000.',
    );
  }

  const rawGraduated = get('tanggal_graduasi');
  const graduatedOn = rawGraduated === '' ? undefined : parseDate(rawGraduated);
  if (rawGraduated !== '' && !graduatedOn) {
    return reject(
      'GRADUATION_DATE_INVALID',
      'tanggal_graduasi harus tanggal (YYYY-MM-DD, DD/MM/YYYY atau DD-MM-YYYY) atau kosong.',
      'tanggal_graduasi must be a date (YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY) or empty.',
    );
  }

  const rawDecile = get('desil');
  const decile = /^\d{1,2}$/.test(rawDecile) ? Number(rawDecile) : Number.NaN;
  if (!(decile >= 1 && decile <= 10)) {
    return reject('DECILE_INVALID', 'desil harus bilangan bulat 1 sampai 10.', 'desil must be a whole number from 1 to 10.');
  }

  const rawYear = get('tahun_penerima_prokus');
  const previousGrantYear = rawYear === '' ? undefined : /^\d{4}$/.test(rawYear) ? Number(rawYear) : Number.NaN;
  if (previousGrantYear !== undefined && !(previousGrantYear >= 2000 && previousGrantYear <= 2100)) {
    return reject(
      'PREVIOUS_GRANT_YEAR_INVALID',
      'tahun_penerima_prokus harus tahun empat digit (mis. 2020) atau kosong.',
      'tahun_penerima_prokus must be a four-digit year (e.g. 2020) or empty.',
    );
  }

  return {
    ok: true,
    nik,
    entry: {
      decile,
      ...(graduatedOn ? { graduatedOn } : {}),
      ...(previousGrantYear !== undefined ? { previousGrantYear } : {}),
    },
  };
}

/**
 * Imports a registry file. `input` is the file itself: a stream (e.g. `createReadStream`),
 * its bytes, or CSV text. Throws RegistryFileError when the file cannot be read at all.
 */
export async function importRegistry(input: SheetInput): Promise<RegistryImport> {
  await loadKeys();
  let sheet: Sheet;
  try {
    // The registry is national (millions of families), the ministry's file and not an
    // upload: no proposal-sized limits (Excel's own, on columns and cells, still hold).
    const none = Number.POSITIVE_INFINITY;
    sheet = await openSheet(input, {
      maxRows: none,
      maxBytes: none,
      limits: { maxBlankRows: none, maxPartBytes: none, maxSharedStrings: none, maxSharedStringBytes: none },
    });
  } catch (e) {
    if (e instanceof SheetError) throw new RegistryFileError(e.problem.code, e.problem.message);
    throw e;
  }
  const header = matchHeader(sheet.header, REGISTRY_COLUMNS);
  if (!header.ok) {
    sheet.close();
    throw new RegistryFileError(header.problem.code, header.problem.message);
  }

  const importedAt = new Date().toISOString();
  const rejected: RegistryRejection[] = [];
  // Writes run concurrently: two rows of one NIK would race, so the first row stands.
  const firstRow = new Map<string, number>();
  const pool = new Pool(WRITES_IN_FLIGHT);
  let imported = 0;
  try {
    const nikColumn = header.index.nik;
    for await (const { row, cells, kinds } of sheet.rows) {
      const check = checkRegistryRow(
        row,
        cellsByName(cells, header.index),
        nikColumn === undefined ? undefined : kinds?.[nikColumn],
      );
      if (!('ok' in check)) {
        rejected.push(check);
        continue;
      }
      const earlier = firstRow.get(check.nik);
      if (earlier !== undefined) {
        rejected.push({
          row,
          code: 'DUPLICATE_IN_FILE',
          message: {
            id: `NIK yang sama sudah ada di baris ${earlier}; baris ini diabaikan.`,
            en: `The same NIK is already in row ${earlier}; this row was skipped.`,
          },
        });
        continue;
      }
      firstRow.set(check.nik, row);
      const entry: RegistryEntry = { nikHash: hashId('nik', check.nik), ...check.entry, importedAt };
      await pool.run(async () => {
        await putRegistryEntry(entry);
        imported += 1;
      });
    }
    await pool.drain();
  } catch (e) {
    // Let the writes in flight settle, so the caller sees the end state of the import.
    await pool.drain().catch(() => undefined);
    if (e instanceof SheetError) throw new RegistryFileError(e.problem.code, e.problem.message);
    throw e;
  }
  return { imported, rejected };
}
