/**
 * What `prokus validate` prints: the officer's text report, or the JSON every tool reads,
 * written from the spool in chunks. Its own file: the output, apart from the check.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { FileProblem } from '#intake/sheet';
import type { TextRow, Validation } from './validate.ts';

/**
 * Writes pieces in chunks of about 64 KiB, waiting whenever the stream asks to. A reader
 * that goes away (`| head`) ends the writing quietly, as it would for any Unix tool.
 */
async function writeChunked(out: Writable, pieces: AsyncIterable<string> | Iterable<string>): Promise<void> {
  let failure: Error | undefined;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') failure ??= e;
  };
  out.on('error', onError);
  const gone = () => out.destroyed || out.writableEnded || failure !== undefined;
  let chunk = '';
  const flush = async () => {
    if (chunk === '' || gone()) return;
    const more = out.write(chunk);
    chunk = '';
    if (!more && !gone()) await Promise.race([once(out, 'drain'), once(out, 'close')]).catch(() => undefined);
  };
  try {
    for await (const piece of pieces) {
      if (gone()) break;
      chunk += piece;
      if (chunk.length >= 64 * 1024) await flush();
    }
    await flush();
  } finally {
    out.off('error', onError);
  }
  if (failure) throw failure;
}

const problemJson = (p: FileProblem) => ({ code: p.code, ...(p.field ? { field: p.field } : {}), message: p.message });

/**
 * `{"file", "district", "rows": [...], "summary": {...}}` and, after them, the additive
 * `programYear`, `format` (`csv` | `xlsx`), `sheetName` (XLSX), `fileWarnings` and `notChecked`. One row per line, so the output is
 * both JSON and greppable.
 */
export async function writeValidationJson(v: Validation, out: Writable): Promise<void> {
  async function* pieces(): AsyncGenerator<string> {
    yield `{"file":${JSON.stringify(v.file)},"district":${JSON.stringify(v.district)},"rows":[`;
    let first = true;
    for await (const line of v.rows.lines()) {
      yield first ? `\n${line}` : `,\n${line}`;
      first = false;
    }
    const tail = {
      summary: v.summary,
      programYear: v.programYear,
      format: v.format,
      ...(v.sheetName ? { sheetName: v.sheetName } : {}),
      fileWarnings: v.fileWarnings.map(problemJson),
      notChecked: v.notChecked.map(problemJson),
    };
    yield `\n],${JSON.stringify(tail).slice(1)}\n`;
  }
  try {
    await writeChunked(out, pieces());
  } finally {
    await v.rows.dispose();
  }
}

export function writeValidationErrorJson(problem: FileProblem, out: Writable): void {
  out.write(`${JSON.stringify({ error: { code: problem.code, message: problem.message } })}\n`);
}

/** A count as Indonesian readers write it (1.234.567). */
export const formatCount = (x: number) => x.toLocaleString('id-ID');
const n = formatCount;

/** The officer's report: summary, every rejected row (Indonesian, then English), notes, what to do next. */
export async function writeValidationText(v: Validation, out: Writable): Promise<void> {
  const s = v.summary;
  const total = s.accepted + s.warning + s.rejected;
  const head = [
    `Berkas / file: ${v.file} (${v.format.toUpperCase()}${v.sheetName ? `, lembar/sheet ${v.sheetName}` : ''})`,
    `Kabupaten/kota / district: ${v.districtName} (${v.district}), tahun program / program year ${v.programYear}`,
    '',
    `Baris usulan / proposal rows: ${n(total)}`,
    `  Diterima / accepted:                               ${n(s.accepted)}`,
    `  Diterima dengan catatan / accepted with a note:    ${n(s.warning)}`,
    `  Ditolak / rejected:                                ${n(s.rejected)}`,
    '',
  ];
  async function* pieces(): AsyncGenerator<string> {
    yield `${head.join('\n')}\n`;
    if (s.rejected > 0) {
      yield 'Baris yang ditolak (nomor baris seperti di spreadsheet, baris judul = 1) /\n';
      yield 'Rejected rows (row numbers as in the spreadsheet, header = row 1):\n\n';
      for await (const line of v.rows.lines()) {
        const row = JSON.parse(line) as TextRow;
        for (const f of row.errors) {
          // A note on a rejected row (the NIK's birth date differs, say) is not why it was rejected.
          const note = f.severity === 'warning' ? '  (catatan / note)' : '';
          yield `  baris/row ${row.row}  kolom/column ${f.field}  ${f.code}${note}\n      ${f.message.id}\n      ${f.message.en}\n`;
        }
      }
      yield '\n';
    }
    if (v.notes.length > 0) {
      yield 'Catatan pada baris yang diterima (verifikasi akan memeriksanya) /\n';
      yield 'Notes on accepted rows (verification will check them):\n';
      for (const t of v.notes) {
        const more = t.rows > t.firstRows.length ? ', …' : '';
        yield `  ${t.code} (kolom/column ${t.field}): ${n(t.rows)} baris/rows: ${t.firstRows.join(', ')}${more}\n      ${t.message.id}\n      ${t.message.en}\n`;
      }
      yield '\n';
    }
    for (const w of v.fileWarnings) yield `Peringatan berkas / file warning ${w.code}:\n  ${w.message.id}\n  ${w.message.en}\n\n`;
    for (const c of v.notChecked) yield `${c.message.id}\n${c.message.en}\n\n`;
    const upload = `npx prokus upload ${v.file} --district ${v.district} --year ${v.programYear}`;
    if (s.rejected > 0) {
      yield 'Perbaiki baris yang ditolak, lalu periksa lagi dengan `prokus validate`. Bila diunggah apa adanya, baris yang diterima diproses dan baris yang ditolak harus diunggah lagi dalam berkas baru setelah diperbaiki.\n';
      yield 'Fix the rejected rows and check again with `prokus validate`. Uploaded as it is, the accepted rows are processed and the rejected rows must be fixed and uploaded again in a new file.\n';
    } else {
      yield `Berkas siap diunggah / the file is ready to upload: ${upload}\n`;
    }
  }
  try {
    await writeChunked(out, pieces());
  } finally {
    await v.rows.dispose();
  }
}

export function describeValidationError(problem: FileProblem): string {
  return `Berkas tidak dapat diperiksa / the file cannot be checked (${problem.code}):\n${problem.message.id}\n${problem.message.en}\n`;
}
