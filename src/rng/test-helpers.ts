/** Helpers for the rng tests: compare float32 arrays by their raw bits. */
import { join } from 'node:path';
import { readNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { REFERENCE_DIR } from '../testing/paths.ts';

export const RANDN_DIR = join(REFERENCE_DIR, 'randn');

export function readReference(file: string): Tensor<'float32'> {
  const t = readNpy(join(REFERENCE_DIR, file));
  if (t.dtype !== 'float32') throw new Error(`${file}: expected float32, got ${t.dtype}`);
  return t as Tensor<'float32'>;
}

/** Signed-magnitude float32 bits mapped onto a monotonic integer line, so differences count ulps. */
function ordered(bits: number): number {
  return bits < 0 ? -(bits & 0x7fffffff) : bits;
}

export interface BitDiff {
  count: number;
  mismatches: number;
  maxUlp: number;
  firstMismatch: number;
}

export function bitDiff(actual: Float32Array, expected: Float32Array): BitDiff {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  const a = new Int32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Int32Array(expected.buffer, expected.byteOffset, expected.length);
  let mismatches = 0;
  let maxUlp = 0;
  let firstMismatch = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === e[i]) continue;
    if (firstMismatch < 0) firstMismatch = i;
    mismatches++;
    maxUlp = Math.max(maxUlp, Math.abs(ordered(a[i]) - ordered(e[i])));
  }
  return { count: a.length, mismatches, maxUlp, firstMismatch };
}
