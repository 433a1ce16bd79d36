import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleKernel, KERNEL_BINARY } from '../../../scripts/build-wasm.ts';
import { float32 } from '../../tensor/tensor.ts';
import { compareTensors } from '../compare.ts';
import { float32Kernel, KERNEL_CHUNK } from './kernel.ts';

/** Deterministic floats in [-1, 1) scaled by `scale` (a 32-bit LCG). */
function lcg(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

/** Σ term(i) with Neumaier's compensated summation: a reference far more accurate than either path under test. */
function accurateSum(n: number, term: (i: number) => number): number {
  let sum = 0, compensation = 0;
  for (let i = 0; i < n; i++) {
    const x = term(i);
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + compensation;
}

function cosine(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const ab = accurateSum(n, (i) => a[i] * b[i]);
  return ab / Math.sqrt(accurateSum(n, (i) => a[i] * a[i])) / Math.sqrt(accurateSum(n, (i) => b[i] * b[i]));
}

describe('float32 SIMD kernel', () => {
  it('is the assembly of sums.wat (run `npm run build:wasm` after editing it)', async () => {
    expect(Buffer.from(readFileSync(KERNEL_BINARY)).equals(Buffer.from(await assembleKernel()))).toBe(true);
  });

  it('loads on this runtime, so compareTensors really takes the SIMD path here', () => {
    expect(float32Kernel()).not.toBeNull();
  });

  // Lengths cover the empty tensor, every remainder mod 4 and chunk boundaries.
  const lengths = [0, 1, 2, 3, 4, 5, 7, 64, 1001, KERNEL_CHUNK - 1, KERNEL_CHUNK, KERNEL_CHUNK + 3, 2 * KERNEL_CHUNK + 2];
  it.each(lengths)('agrees with the scalar path on %i elements', (n) => {
    const a = lcg(n, 11);
    const b = a.map((x, i) => x + 1e-3 * Math.cos(i));
    const simd = compareTensors(float32([n], a), float32([n], b), 'x', 'simd');
    const scalar = compareTensors(float32([n], a), float32([n], b), 'x', 'scalar');
    for (const key of ['cosine', 'l1', 'rmse', 'relL2', 'sqnr'] as const) {
      if (simd[key] === scalar[key]) continue; // also covers ±Infinity
      expect(Math.abs(simd[key] - scalar[key]), key).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(scalar[key])));
    }
    // Differences and their maximum involve no summation: exactly equal.
    expect(simd.maxAbs).toBe(scalar.maxAbs);
    expect(simd.maxAbsIndex).toEqual(scalar.maxAbsIndex);
  });

  it('keeps the cosine exact when one side is tiny next to the other (Σab summed, not derived)', () => {
    const n = 3 * KERNEL_CHUNK;
    const a = lcg(n, 5);
    const b = a.map((x, i) => 1e-12 * (x + 1e-3 * Math.sin(i)));
    const m = compareTensors(float32([n], a), float32([n], b));
    // Derived from Σa² + Σb² − Σ(a−b)², Σab would be off by ~1e-16·Σa² ≈ 1e-16·1e12·Σab: a cosine error of ~1e-4.
    expect(Math.abs(m.cosine - cosine(a, b))).toBeLessThan(5e-14);
  });

  // Derived from Σ(a−b)², Σab keeps 1 − cosine accurate where summing it directly loses ~1e-14 (the scalar path).
  it('computes the cosine of nearly equal tensors to float64 precision', () => {
    const n = 2 * KERNEL_CHUNK + 17;
    const a = lcg(n, 6, 3);
    const b = a.map((x, i) => x * (1 + 1e-6 * Math.sin(i)));
    const m = compareTensors(float32([n], a), float32([n], b));
    expect(Math.abs(m.cosine - cosine(a, b))).toBeLessThan(1e-15);
  });

  it('handles float32 extremes without overflow (squares are float64)', () => {
    const a = new Float32Array([3e38, -3e38, 1e-45, 0, 5]);
    const b = new Float32Array([-3e38, -3e38, 0, 0, 5]);
    const m = compareTensors(float32([5], a), float32([5], b));
    expect(m.maxAbs).toBeCloseTo(Math.fround(3e38) * 2, -25);
    expect(m.maxAbsIndex).toEqual([0]);
    expect(m.nanCount).toEqual({ reference: 0, candidate: 0 });
    expect(m.infCount).toEqual({ reference: 0, candidate: 0 });
    expect(m.cosine).toBeCloseTo(compareTensors(float32([5], a), float32([5], b), 'x', 'scalar').cosine, 14);
  });
});
