/**
 * Structured JSON logs (pino). Log lines carry case ids and codes, never NIK, KK,
 * names or addresses; the redaction below is a second line of defence for fields
 * that must never be printed even if someone logs a whole record by mistake.
 */
import { pino } from 'pino';

const destination = process.env.PROKUS_LOG_FILE
  ? pino.destination({ dest: process.env.PROKUS_LOG_FILE, sync: false, mkdir: true })
  : pino.destination(1);

export const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: 'prokus' },
    redact: {
      paths: [
        'nik',
        'kk',
        'personal',
        '*.nik',
        '*.kk',
        '*.personal',
        'nama',
        '*.nama',
        'noHp',
        '*.noHp',
        'taskToken',
        '*.taskToken',
      ],
      censor: '[redacted]',
    },
  },
  destination,
);
