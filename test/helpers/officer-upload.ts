/** A proposal file as an officer of Kab. Majalengka (3210) uploads it: two good rows and one damaged (row 3). */
import { PROPOSAL_COLUMNS } from '#intake/proposal';
import { proposalRow } from './fixtures.ts';

export const DAMAGED_ROW = 3;
/** What Excel does to a NIK in a number cell that is then saved as CSV. */
export const DAMAGED_CODE = 'NIK_SCIENTIFIC_NOTATION';

export function proposalWithDamagedRow(serialBase = 12): string {
  const columns = PROPOSAL_COLUMNS.map((c) => c.name);
  const row = (i: number, damaged: boolean) => {
    const serial = String(serialBase + i).padStart(4, '0');
    const values: Record<string, string> = {
      ...proposalRow,
      nik: damaged ? '3,21001E+15' : `'321001450895${serial}`,
      no_kk: `'321001010109${serial}`,
      nama: `Siti Aminah ${i}`,
    };
    return columns.map((c) => values[c] ?? '').join(';');
  };
  return `${[columns.join(';'), row(0, false), row(1, true), row(2, false)].join('\r\n')}\r\n`;
}
