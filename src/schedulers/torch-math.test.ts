import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readNpy } from '../tensor/npy.ts';
import { sleefLogf } from './torch-math.ts';
import { STACKED_REFERENCE_DIR } from './testing/stacked-reference.ts';

describe("torch's float32 log (torch 1.13, scripts/reference/schedulers_b.py)", () => {
  it('sleefLogf reproduces it bit for bit on 4000 inputs, where a rounded Math.log does not', () => {
    const t = readNpy(join(STACKED_REFERENCE_DIR, 'torch_log_f32.npy'));
    const n = t.dims[1];
    const x = t.data.subarray(0, n) as Float32Array;
    const y = t.data.subarray(n) as Float32Array;
    let sleef = 0;
    let rounded = 0;
    for (let i = 0; i < n; i++) {
      if (sleefLogf(x[i]) !== y[i]) sleef++;
      if (Math.fround(Math.log(x[i])) !== y[i]) rounded++;
    }
    expect(n).toBe(4000);
    expect(sleef).toBe(0);
    expect(rounded).toBeGreaterThan(0);
  });
});
