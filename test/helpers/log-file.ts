/**
 * Reading what the real logger and metrics wrote. A test that wants them sets, inside
 * `vi.hoisted` (before any module of functions/ loads), PROKUS_LOG_FILE to a file of its
 * own, LOG_LEVEL=info and POWERTOOLS_METRICS_DISABLED=false: the embedded runtime's setup.
 */
import { readFile } from 'node:fs/promises';
import { flushLogs } from '#lib/logger';

export async function logText(file: string): Promise<string> {
  await flushLogs();
  return readFile(file, 'utf8').catch(() => '');
}

/** Every line of the file, parsed: each must be one JSON object. */
export async function logLines(file: string): Promise<Record<string, unknown>[]> {
  return (await logText(file))
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The EMF blobs among the lines: the ones CloudWatch turns into metrics. */
export interface EmfBlob {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

export async function emfBlobs(file: string): Promise<EmfBlob[]> {
  return (await logLines(file)).filter((line): line is EmfBlob => '_aws' in line);
}
