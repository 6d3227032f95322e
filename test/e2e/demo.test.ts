/**
 * `prokus demo` end to end, as a user runs it: the CLI in its own process, the embedded
 * runtime, people played through the emailed links. Small N keeps it quick; the seed
 * makes the mix of outcomes the same every run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const run = promisify(execFile);

const DemoJson = z.object({
  families: z.number(),
  outcomes: z.record(z.string(), z.number()),
  byDistrict: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string()]))),
  privacy: z.object({ nikLeaks: z.number(), kkLeaks: z.number() }),
  people: z.object({ approvals: z.number(), rejections: z.number(), leftUnanswered: z.number(), escalations: z.number() }),
  node: z.string(),
  pageUpload: z.object({ district: z.string(), accepted: z.number(), rejected: z.number() }),
  funnel: z.object({ counted: z.number(), mismatched: z.array(z.string()) }),
});

describe('prokus demo', () => {
  it('takes 30 families through every stage: graduated, ineligible and rejected, none failed, no NIK leaked', async () => {
    const { stdout } = await run('node', ['cli/prokus.js', 'demo', '--families', '30', '--json'], {
      env: { ...process.env, LOG_LEVEL: 'info', POWERTOOLS_METRICS_DISABLED: 'false' },
      timeout: 240_000,
      maxBuffer: 10 * 2 ** 20,
    });
    const result = DemoJson.parse(JSON.parse(stdout));
    expect(result.families).toBe(30);
    expect(result.outcomes.graduated).toBeGreaterThan(0);
    expect(result.outcomes.ineligible).toBeGreaterThan(0);
    expect(result.outcomes.rejected).toBeGreaterThan(0);
    expect(result.outcomes.failed).toBe(0);
    // The console's funnel counters, kept with every case write, equal a recount of the cases.
    expect(result.funnel).toEqual({ counted: 30, mismatched: [] });
    expect(result.outcomes.unfinished).toBe(0);
    const total = Object.values(result.outcomes).reduce((a, b) => a + b, 0);
    expect(total).toBe(30);
    expect(Object.keys(result.byDistrict).sort()).toEqual(['3171', '3210', '3217', '3322', '3402']);
    // One district's file went through the upload page, its damaged row flagged before submitting.
    expect(result.pageUpload.district).toBe('3210');
    expect(result.pageUpload.rejected).toBeGreaterThan(0);
    // Two approval levels, and one district head on leave whose every request moved to the alternate.
    expect(result.people.leftUnanswered).toBeGreaterThan(0);
    expect(result.people.escalations).toBeGreaterThanOrEqual(result.people.leftUnanswered);
    expect(result.people.approvals).toBeGreaterThan(result.outcomes.graduated!);
    expect(result.privacy.nikLeaks).toBe(0);
    expect(result.privacy.kkLeaks).toBe(0);
    // The child runs the `node` on PATH, as the tests do: under npm scripts, the devDependency's.
    expect(result.node).toBe(process.version);
  });
});
