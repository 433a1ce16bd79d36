import { describe, expect, it } from 'vitest';
import { NumpyLegacyGenerator } from './numpy-legacy.ts';
import { bitDiff, readReference } from './test-helpers.ts';

describe('NumpyLegacyGenerator', () => {
  const ref = readReference('randn/numpy_randn_seed0_1x4x8x8.npy');

  it('continues one stream across calls, cached gauss included (odd split: 3 + 253 = 256)', () => {
    const g = new NumpyLegacyGenerator(0);
    const a = g.randn([3]).data;
    const b = g.randn([253]).data;
    const joined = new Float32Array(256);
    joined.set(a);
    joined.set(b, 3);
    expect(bitDiff(joined, ref.data).mismatches).toBe(0);
  });

  it('skipRandn leaves the stream where randn does (the reference split 3 + 253, the first 3 skipped)', () => {
    const g = new NumpyLegacyGenerator(0);
    g.skipRandn([3]);
    expect(bitDiff(g.randn([253]).data, ref.data.subarray(3)).mismatches).toBe(0);
  });

  it('rejects seeds numpy rejects (≥ 2^32) naming --seed', () => {
    expect(() => new NumpyLegacyGenerator(2 ** 32)).toThrow(/--seed.*2\^32/);
  });
});
