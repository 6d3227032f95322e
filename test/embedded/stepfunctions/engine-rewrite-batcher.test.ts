/**
 * ItemBatcher in the embedded rewrite of Distributed Maps: each iteration of the inline
 * Map gets what an AWS child execution gets, `{Items, BatchInput}`; what the engine
 * cannot reproduce is refused when the machine is registered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError, type JsonObject, rewriteItemReaders } from '../../../embedded/stepfunctions/asl-rewrite.ts';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';

const reader = {
  Resource: 'arn:aws:states:::s3:getObject',
  ReaderConfig: { InputType: 'JSON' },
  Parameters: { 'Bucket.$': '$.list.bucket', 'Key.$': '$.list.key' },
};

function batchedMap(extra: JsonObject = {}): JsonObject {
  return {
    Type: 'Map',
    ItemReader: reader,
    ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { 'uploadId.$': '$.uploadId', source: 'test' } },
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: 'Each',
      States: { Each: { Type: 'Pass', End: true } },
    },
    ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { 'Bucket.$': '$.list.bucket', Prefix: 'out' } },
    MaxConcurrency: 3,
    ToleratedFailurePercentage: 0,
    Label: 'Batches',
    End: true,
    ...extra,
  };
}

describe('rewriteItemReaders with ItemBatcher', () => {
  it('gives the reader the batch size and the BatchInput template, and drops ResultWriter', () => {
    const states: JsonObject = { M: batchedMap() };

    rewriteItemReaders(states);

    expect(states['M.ReadItems']).toMatchObject({
      MaxItemsPerBatch: 2,
      Parameters: {
        'Bucket.$': '$.list.bucket',
        'Key.$': '$.list.key',
        __embeddedBatchInput: { 'uploadId.$': '$.uploadId', source: 'test' },
      },
    });
    expect(states.M).not.toHaveProperty('ItemBatcher');
    expect(states.M).not.toHaveProperty('ResultWriter');
    expect(states.M).not.toHaveProperty('Label');
    expect(states.M).toMatchObject({ MaxConcurrency: 3, ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } } });
  });

  it.each([
    ['MaxInputBytesPerBatch', { ItemBatcher: { MaxInputBytesPerBatch: 262_144 } }, /MaxInputBytesPerBatch/],
    ['MaxItemsPerBatchPath', { ItemBatcher: { MaxItemsPerBatchPath: '$.size' } }, /MaxItemsPerBatchPath/],
    ['an ItemSelector', { ItemSelector: { 'caseId.$': '$$.Map.Item.Value.caseId' } }, /ItemSelector next to ItemBatcher/],
  ])('refuses %s, which it cannot reproduce', (_what, extra, message) => {
    expect(() => rewriteItemReaders({ M: batchedMap(extra) })).toThrow(DefinitionError);
    expect(() => rewriteItemReaders({ M: batchedMap(extra) })).toThrow(message);
  });
});

describe('a batched Distributed Map, running', () => {
  let engine: Engine;
  afterEach(async () => {
    await engine.close();
  });

  async function run(map: JsonObject, items: unknown[]) {
    engine = new Engine({ readItems: async () => items });
    const arn = engine.registerStateMachine(
      'batched',
      JSON.stringify({ StartAt: 'M', States: { M: { ...map, ResultPath: '$.batches' } } }),
      {},
    );
    const { executionArn } = await engine.startExecution({
      stateMachineArn: arn,
      input: JSON.stringify({ uploadId: 'u1', list: { bucket: 'b', key: 'k' } }),
    });
    const record = await engine.waitForExecution(executionArn);
    expect(record.status).toBe('SUCCEEDED');
    return JSON.parse(record.output ?? 'null').batches as unknown[];
  }

  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ caseId: `c${i + 1}` }));

  it('hands each iteration {Items, BatchInput}, the last batch holding the rest', async () => {
    const batches = await run(batchedMap(), items(5));

    expect(batches).toEqual([
      { Items: [{ caseId: 'c1' }, { caseId: 'c2' }], BatchInput: { uploadId: 'u1', source: 'test' } },
      { Items: [{ caseId: 'c3' }, { caseId: 'c4' }], BatchInput: { uploadId: 'u1', source: 'test' } },
      { Items: [{ caseId: 'c5' }], BatchInput: { uploadId: 'u1', source: 'test' } },
    ]);
  });

  it('leaves BatchInput out when the definition has none, and runs no iteration for an empty list', async () => {
    const map = batchedMap({ ItemBatcher: { MaxItemsPerBatch: 3 } });

    expect(await run(map, items(4))).toEqual([
      { Items: [{ caseId: 'c1' }, { caseId: 'c2' }, { caseId: 'c3' }] },
      { Items: [{ caseId: 'c4' }] },
    ]);
    await engine.close();
    expect(await run(map, [])).toEqual([]);
  });

  it('puts every item in one batch when ItemBatcher sets no item limit', async () => {
    const batches = await run(batchedMap({ ItemBatcher: { BatchInput: { fixed: 1 } } }), items(3));

    expect(batches).toEqual([{ Items: items(3), BatchInput: { fixed: 1 } }]);
  });
});
