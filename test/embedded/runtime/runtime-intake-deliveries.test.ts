/**
 * One upload's S3 event delivered 200 times at once, as EventBridge may: on AWS each
 * delivery is its own intake execution, so here too (not the embedded trigger, which
 * names the run after the upload and so refuses a repeat). Every run must succeed, the
 * officer gets one summary email, and every family gets one journey.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposalCsv, synthesizeFamilies } from '../../../cli/synthetic.ts';
import { listAllExecutions, type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';

const DELIVERIES = 200;
const FAMILIES = 12;

let dir: string;
let rt: Runtime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-deliveries-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function outboxKinds(): Promise<string[]> {
  const kinds: string[] = [];
  for (const f of (await readdir(rt.outboxDir)).sort()) {
    const mail = await simpleParser(await readFile(join(rt.outboxDir, f)));
    kinds.push(String(mail.headers.get('x-prokus-kind') ?? ''));
  }
  return kinds;
}

describe('one upload delivered 200 times at once', () => {
  it('ends in 200 successful intakes, one summary email and one journey per family', async () => {
    const families = [...synthesizeFamilies(FAMILIES, { districts: ['3210'], ineligibleShare: 0, seed: 2020 })];
    const file = join(dir, 'usulan.csv');
    await writeFile(file, proposalCsv(families, 0));
    const { key } = await rt.upload(file, {
      district: '3210',
      programYear: 2020,
      uploader: 'operator@dinsos.example',
      name: 'usulan.csv',
    });
    const input = JSON.stringify({ bucket: rt.bucket, key });
    // The upload's own intake is already running; 199 more deliveries join it at once.
    await Promise.all(
      Array.from({ length: DELIVERIES - 1 }, (_, i) =>
        rt.engine.startExecution({ stateMachineArn: rt.intakeArn, name: `delivery-${i + 2}`, input }),
      ),
    );
    await rt.idle({ timeoutMs: 240_000 });

    const intakes = listAllExecutions(rt.engine, rt.intakeArn);
    expect(intakes).toHaveLength(DELIVERIES);
    const failed = intakes.filter((e) => e.status !== 'SUCCEEDED');
    expect(failed.map((e) => `${e.name}: ${e.status}`)).toEqual([]);

    const kinds = await outboxKinds();
    expect(kinds.filter((k) => k === 'intake-report')).toHaveLength(1);

    const journeys = listAllExecutions(rt.engine, rt.journeyArn);
    expect(journeys).toHaveLength(FAMILIES);
    expect(new Set(journeys.map((j) => j.name)).size).toBe(FAMILIES);
  }, 300_000);
});
