import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { floatToHalf, float32, int64, makeTensor, type Tensor } from '../tensor/tensor.ts';
import { compareTensors, guidanceDelta, type MetricSet } from './index.ts';

/** Deterministic pseudo-random floats in [-1, 1) (a 32-bit LCG; any fixed data will do). */
function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Straightforward two-pass formulas over plain arrays: an independent check of the one-pass loop. */
function naive(a: number[], b: number[]) {
  const n = a.length;
  const diff = a.map((x, i) => x - b[i]);
  const dot = (u: number[], v: number[]) => u.reduce((s, x, i) => s + x * v[i], 0);
  const absDiff = diff.map(Math.abs);
  const maxAbs = absDiff.reduce((m, x) => (x > m ? x : m), 0);
  return {
    cosine: dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b)),
    l1: absDiff.reduce((s, x) => s + x, 0) / n,
    maxAbs,
    maxAt: absDiff.indexOf(maxAbs),
    rmse: Math.sqrt(dot(diff, diff) / n),
    relL2: Math.sqrt(dot(diff, diff)) / Math.sqrt(dot(a, a)),
    sqnr: 10 * Math.log10(dot(a, a) / dot(diff, diff)),
  };
}

describe('compareTensors', () => {
  it('matches numpy on a small example', () => {
    // Expected values from numpy 2.4 (float32 inputs cast to float64):
    //   a = np.array([1,2,3,4,-5,0.5], np.float32); b = np.array([1.1,1.9,3.5,4,-4,0.25], np.float32)
    const m = compareTensors(float32([2, 3], [1, 2, 3, 4, -5, 0.5]), float32([2, 3], [1.1, 1.9, 3.5, 4, -4, 0.25]));
    expect(m.cosine).toBeCloseTo(0.9889342719748228, 14);
    expect(m.l1).toBeCloseTo(0.32500000794728595, 14);
    expect(m.maxAbs).toBe(1);
    expect(m.maxAbsIndex).toEqual([1, 1]);
    expect(m.rmse).toBeCloseTo(0.471257185539691, 14);
    expect(m.relL2).toBeCloseTo(0.15529857446684525, 14);
    expect(m.sqnr).toBeCloseTo(16.176650615502794, 12);
    expect(m.count).toBe(6);
    expect(m.nanCount).toEqual({ reference: 0, candidate: 0 });
  });

  it('agrees with two-pass formulas on random data', () => {
    const a = lcg(4 * 8 * 8, 1);
    const b = a.map((x, i) => x + 1e-3 * lcg(256, 2)[i]);
    const m = compareTensors(float32([1, 4, 8, 8], a), float32([1, 4, 8, 8], b));
    const r = naive([...a], [...b]);
    for (const key of ['cosine', 'l1', 'maxAbs', 'rmse', 'relL2', 'sqnr'] as const) {
      expect(m[key], key).toBeCloseTo(r[key], 12);
    }
    const [n, c, h, w] = m.maxAbsIndex;
    expect(n * 256 + c * 64 + h * 8 + w).toBe(r.maxAt);
  });

  // Sizes span several chunks of both kernels (SIMD 65536, scalar 16384 elements).
  describe.each(['simd', 'scalar'] as const)('%s kernel', (kernel) => {
    it('handles large tensors across kernel chunks, with NaN/Inf in one chunk only', () => {
      const n = 200_000;
      const a = lcg(n, 3);
      const b = a.map((x, i) => x + 1e-4 * Math.sin(i));
      b[70_000] = NaN;
      a[70_001] = -Infinity;
      [a[140_000], b[140_000]] = [0.25, 0.75]; // the maximum, in a later chunk
      [a[190_000], b[190_000]] = [0.25, -0.25]; // ties it later: the first occurrence wins
      const keep = [...a.keys()].filter((i) => i !== 70_000 && i !== 70_001);
      const r = naive(keep.map((i) => a[i]), keep.map((i) => b[i]));
      const m = compareTensors(float32([n], a), float32([n], b), 'x', kernel);
      for (const key of ['cosine', 'l1', 'rmse', 'relL2', 'sqnr'] as const) expect(m[key], key).toBeCloseTo(r[key], 10);
      expect(m.maxAbs).toBe(0.5);
      expect(m.maxAbsIndex).toEqual([140_000]);
      expect(m.nanCount).toEqual({ reference: 0, candidate: 1 });
      expect(m.infCount).toEqual({ reference: 1, candidate: 0 });
    });

    it('finds the first maximum whether it lies in a checked (non-finite) chunk or a plain one', () => {
      const n = 200_000;
      const a = lcg(n, 4);
      const b = a.slice();
      const compare = () => compareTensors(float32([n], a), float32([n], b), 'x', kernel);
      b[70_000] = NaN; // chunk 1 (of either kernel) takes the checked path
      [a[70_005], b[70_005]] = [1, 3]; // the maximum, |Δ| = 2, inside that chunk
      [a[140_000], b[140_000]] = [1, -1]; // a later tie in a plain chunk
      expect(compare().maxAbsIndex).toEqual([70_005]);
      [a[100], b[100]] = [0, 2]; // an earlier tie in plain chunk 0
      expect(compare().maxAbsIndex).toEqual([100]);
      b[70_000] = a[70_000]; // all chunks plain now: the first of three ties
      expect(compare().maxAbsIndex).toEqual([100]);
      [a[100], b[100]] = [0, 0];
      expect(compareTensors(float32([20, 10_000], a), float32([20, 10_000], b), 'x', kernel).maxAbsIndex).toEqual([7, 5]);
    });
  });

  it('defines the edge cases that would otherwise be NaN', () => {
    const zeros = float32([3]);
    const x = float32([3], [1, -2, 3]);
    const both0 = compareTensors(zeros, zeros);
    expect(both0).toMatchObject({ cosine: 1, l1: 0, maxAbs: 0, rmse: 0, relL2: 0, sqnr: Infinity });
    expect(both0.maxAbsIndex).toEqual([0]);
    expect(compareTensors(zeros, x)).toMatchObject({ cosine: 0, relL2: Infinity, sqnr: -Infinity, maxAbs: 3 });
    expect(compareTensors(x, zeros)).toMatchObject({ cosine: 0, relL2: 1, sqnr: 0 });
    expect(compareTensors(x, x)).toMatchObject({ cosine: 1, l1: 0, relL2: 0, sqnr: Infinity, maxAbsIndex: [0] });
    expect(compareTensors(x, float32([3], [-1, 2, -3])).cosine).toBe(-1);
  });

  it('counts NaN/Inf per side and leaves them out of the other metrics', () => {
    const a = float32([2, 3], [1, NaN, 3, Infinity, 5, -Infinity]);
    const b = float32([2, 3], [1.5, 2, NaN, Infinity, 5, 6]);
    const m = compareTensors(a, b);
    expect(m.nanCount).toEqual({ reference: 1, candidate: 1 });
    expect(m.infCount).toEqual({ reference: 2, candidate: 1 });
    expect(m.count).toBe(6);
    // Only elements 0 and 4 are finite on both sides.
    expect(m.l1).toBeCloseTo(0.25, 15);
    expect(m.maxAbs).toBe(0.5);
    expect(m.maxAbsIndex).toEqual([0, 0]);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.125), 15);
    for (const v of [m.cosine, m.l1, m.rmse, m.relL2, m.sqnr]) expect(Number.isNaN(v)).toBe(false);
  });

  it('an all-NaN side matches nothing: every metric at its worst, never cosine 1', () => {
    const m = compareTensors(float32([2], [NaN, NaN]), float32([2], [NaN, 1]));
    expect(m).toMatchObject({ cosine: 0, l1: Infinity, maxAbs: Infinity, rmse: Infinity, relL2: Infinity, sqnr: -Infinity, maxAbsIndex: [] });
    expect(m).toMatchObject({ nanCount: { reference: 2, candidate: 1 }, nonFiniteMismatches: 2, count: 2 });
    const allNaN = float32([4], [NaN, NaN, NaN, NaN]);
    expect(compareTensors(allNaN, allNaN).cosine).toBe(0);
    expect(compareTensors(allNaN, float32([4], [1, 2, 3, 4])).cosine).toBe(0);
  });

  it('matching infinities are not mismatches; +Infinity against -Infinity is', () => {
    const a = float32([3], [-Infinity, 1, Infinity]);
    expect(compareTensors(a, float32([3], [-Infinity, 1, Infinity])).nonFiniteMismatches).toBe(0);
    expect(compareTensors(a, float32([3], [-Infinity, 1, -Infinity])).nonFiniteMismatches).toBe(1);
    expect(compareTensors(float32([1], [Infinity]), float32([1], [-Infinity]))).toMatchObject({ cosine: 0, maxAbs: Infinity, nonFiniteMismatches: 1 });
    expect(compareTensors(float32([1], [-Infinity]), float32([1], [-Infinity]))).toMatchObject({ cosine: 1, maxAbs: 0, nonFiniteMismatches: 0 });
  });

  it('int64 pairs compare exactly: 2^53 and 2^53 + 1 differ by 1', () => {
    const a = int64([3], [2n ** 53n, -(2n ** 62n), 5n]);
    const b = int64([3], [2n ** 53n + 1n, -(2n ** 62n) + 3n, 5n]);
    const m = compareTensors(a, b);
    expect(m.maxAbs).toBe(3);
    expect(m.maxAbsIndex).toEqual([1]);
    expect(m.l1).toBeCloseTo(4 / 3, 15);
    expect(m.sqnr).not.toBe(Infinity);
    expect(compareTensors(a, a)).toMatchObject({ maxAbs: 0, sqnr: Infinity, cosine: 1 });
  });

  it('reads float16 and int64 through conversion', () => {
    const half = makeTensor('float16', [4], Uint16Array.from([1, -2.5, 0.333251953125, 65504], floatToHalf));
    const halfNaN = makeTensor('float16', [2], Uint16Array.from([0x7e00, 0x7c00]));
    const ref = float32([4], [1, -2.5, 0.333251953125, 65504]);
    expect(compareTensors(ref, half)).toMatchObject({ maxAbs: 0, sqnr: Infinity, cosine: 1 });
    expect(compareTensors(float32([2], [0, 0]), halfNaN)).toMatchObject({
      nanCount: { reference: 0, candidate: 1 },
      infCount: { reference: 0, candidate: 1 },
    });
    const ints = int64([2, 2], [901, 801, -3, 2n ** 40n]);
    const m = compareTensors(ints, float32([2, 2], [901, 800, -3, 2 ** 40]));
    expect(m.maxAbs).toBe(1);
    expect(m.maxAbsIndex).toEqual([0, 1]);
    expect(m.l1).toBe(0.25);
  });

  it('compares mixed dtypes (float64 reference, float32 candidate)', () => {
    const a = makeTensor('float64', [3], Float64Array.from([0.1, 0.2, 0.3]));
    const m = compareTensors(a, float32([3], [0.1, 0.2, 0.3]));
    // The float32 rounding of 0.1, 0.2, 0.3 is visible in float64: the largest is 0.3's.
    expect(m.maxAbs).toBe(Math.abs(Math.fround(0.3) - 0.3));
    expect(m.maxAbsIndex).toEqual([2]);
  });

  it('refuses a shape mismatch naming the tensor and both shapes', () => {
    const call = () => compareTensors(float32([1, 4]), float32([4]), 'steps/003/noise_pred');
    expect(call).toThrow(UsageError);
    expect(call).toThrow('steps/003/noise_pred: shape mismatch, reference [1,4] vs candidate [4]');
  });

  it('returns plain data for report.json', () => {
    const m: MetricSet = compareTensors(float32([1], [1]), float32([1], [2]));
    expect(Object.keys(m).sort()).toEqual(
      ['cosine', 'count', 'infCount', 'l1', 'maxAbs', 'maxAbsIndex', 'nanCount', 'nonFiniteMismatches', 'relL2', 'rmse', 'sqnr'].sort(),
    );
  });
});

describe('guidanceDelta', () => {
  it('is text − uncond rounded to float32', () => {
    const uncond = float32([1, 2], [0.1, -1]);
    const text = float32([1, 2], [0.3, 2]);
    const d = guidanceDelta(uncond, text);
    expect(d.dtype).toBe('float32');
    expect(d.dims).toEqual([1, 2]);
    expect([...d.data]).toEqual([Math.fround(Math.fround(0.3) - Math.fround(0.1)), 3]);
  });

  it('accepts float16 input and refuses mismatched shapes', () => {
    const half: Tensor = makeTensor('float16', [2], Uint16Array.from([1, 2], floatToHalf));
    expect([...guidanceDelta(half, float32([2], [3, 3])).data]).toEqual([2, 1]);
    expect(() => guidanceDelta(float32([2]), float32([3]))).toThrow(/noise_pred_uncond \[2\] and noise_pred_text \[3\]/);
  });
});
