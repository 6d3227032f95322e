/**
 * The embedded-only rewrite of Distributed Maps (ItemReader → reader task + inline Map)
 * as a function, then as it runs: items, MaxItems and ItemBatcher.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ITEMS_KEY, type JsonObject, RELEASE_ITEMS, rewriteItemReaders } from '../../../embedded/stepfunctions/asl-rewrite.ts';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';

const processor = {
  ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
  StartAt: 'Each',
  States: { Each: { Type: 'Pass', End: true } },
};

function distributedMap(extra: JsonObject = {}): JsonObject {
  return {
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.list.bucket', 'Key.$': '$.list.key' },
    },
    ItemProcessor: processor,
    MaxConcurrency: 40,
    ToleratedFailurePercentage: 0,
    ResultPath: null,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
    Next: 'Done',
    ...extra,
  };
}

describe('rewriteItemReaders', () => {
  it('puts a reader task before an inline Map and a release task after it, and redirects transitions', () => {
    const machine: JsonObject = {
      StartAt: 'Start',
      States: {
        Start: distributedMap({ OutputPath: '$.summary' }),
        Again: { Type: 'Choice', Choices: [{ Variable: '$.x', BooleanEquals: true, Next: 'Start' }], Default: 'Done' },
        Done: { Type: 'Succeed' },
        Failed: { Type: 'Fail' },
      },
    };
    const states = machine.States as JsonObject;

    rewriteItemReaders(states, machine);

    expect(machine.StartAt).toBe('Start.ReadItems');
    expect((states.Again as JsonObject).Choices).toEqual([{ Variable: '$.x', BooleanEquals: true, Next: 'Start.ReadItems' }]);
    expect(states['Start.ReadItems']).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::s3:getObject',
      Parameters: { 'Bucket.$': '$.list.bucket', 'Key.$': '$.list.key' },
      ResultPath: `$.${ITEMS_KEY}`,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Start.ReleaseItems.Catch0' }],
      Next: 'Start',
    });
    expect(states.Start).toEqual({
      Type: 'Map',
      ItemsPath: `$.${ITEMS_KEY}`,
      ItemProcessor: { ...processor, ProcessorConfig: { Mode: 'INLINE' } },
      MaxConcurrency: 40,
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Start.ReleaseItems.Catch0' }],
      Next: 'Start.ReleaseItems',
    });
    expect(states['Start.ReleaseItems']).toMatchObject({ Resource: RELEASE_ITEMS, OutputPath: '$.summary', Next: 'Done' });
    expect(states['Start.ReleaseItems.Catch0']).toMatchObject({ Resource: RELEASE_ITEMS, Next: 'Failed' });
    expect(states['Start.ReleaseItems.Catch0']).not.toHaveProperty('OutputPath');
  });

  it('ends with the release task when the Map was the last state', () => {
    const map = distributedMap({ End: true });
    delete map.Next;
    delete map.Catch;
    const states: JsonObject = { M: map };

    rewriteItemReaders(states);

    expect(states['M.ReleaseItems']).toMatchObject({ End: true });
    expect(states.M).toMatchObject({ Next: 'M.ReleaseItems' });
    expect(states.M).not.toHaveProperty('End');
  });

  it('refuses readers and fields it cannot reproduce', () => {
    const withReader = (reader: JsonObject) => ({ M: { ...distributedMap(), ItemReader: reader } });
    expect(() => rewriteItemReaders(withReader({ Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: {} }))).toThrow(
      /s3:getObject only/,
    );
    expect(() => rewriteItemReaders({ M: distributedMap({ InputPath: '$.x' }) })).toThrow(/InputPath\/ItemsPath/);
  });
});

describe('a rewritten Distributed Map, running', () => {
  let engine: Engine;
  afterEach(async () => {
    await engine.close();
  });

  it('reads the items, honours MaxItems and ItemBatcher, and keeps the list out of the output', async () => {
    const reads: string[] = [];
    engine = new Engine({
      readItems: async (bucket, key) => {
        reads.push(`${bucket}/${key}`);
        return Array.from({ length: 7 }, (_, i) => ({ caseId: `c${i + 1}` }));
      },
    });
    const arn = engine.registerStateMachine(
      'batches',
      JSON.stringify({
        StartAt: 'Start',
        States: {
          Start: {
            ...distributedMap(),
            ItemReader: {
              Resource: 'arn:aws:states:::s3:getObject',
              ReaderConfig: { InputType: 'JSON', MaxItems: 5 },
              Parameters: { 'Bucket.$': '$.list.bucket', 'Key.$': '$.list.key' },
            },
            ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { 'uploadId.$': '$.uploadId' } },
            ResultPath: '$.batches',
            Catch: undefined,
            Next: undefined,
            End: true,
          },
        },
      }),
      {},
    );

    const { executionArn } = await engine.startExecution({
      stateMachineArn: arn,
      input: JSON.stringify({ uploadId: 'u1', list: { bucket: 'b', key: 'journeys.json' } }),
    });
    const record = await engine.waitForExecution(executionArn);

    expect(record.status).toBe('SUCCEEDED');
    expect(reads).toEqual(['b/journeys.json']);
    const output = JSON.parse(record.output ?? '');
    expect(output).not.toHaveProperty(ITEMS_KEY);
    expect(output.batches).toEqual([
      { Items: [{ caseId: 'c1' }, { caseId: 'c2' }], BatchInput: { uploadId: 'u1' } },
      { Items: [{ caseId: 'c3' }, { caseId: 'c4' }], BatchInput: { uploadId: 'u1' } },
      { Items: [{ caseId: 'c5' }], BatchInput: { uploadId: 'u1' } },
    ]);
    const history = JSON.stringify(engine.getExecutionHistory({ executionArn, maxResults: 1000 }).events);
    expect(history).not.toContain(ITEMS_KEY);
  });
});
