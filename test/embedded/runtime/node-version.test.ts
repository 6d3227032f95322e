/** On a Node without Promise.withResolvers the engine would start executions that never move: the runtime refuses to start instead. */
import { afterEach, describe, expect, it } from 'vitest';
import { assertSupportedNode } from '../../../embedded/runtime/start.ts';

const withResolvers = Promise.withResolvers;
afterEach(() => {
  Promise.withResolvers = withResolvers;
});

describe('assertSupportedNode', () => {
  it('passes on the Node the project runs (24)', () => {
    expect(() => assertSupportedNode()).not.toThrow();
  });

  it('refuses, in both languages, a Node too old for the engine', () => {
    // @ts-expect-error: what Node 20 lacks
    delete Promise.withResolvers;
    expect(() => assertSupportedNode()).toThrow(/too old \(22 or later needed\).*terlalu lama/);
  });
});
