import { describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, parseNpy, readNpy } from './npy.ts';
import { makeTensor, type DType, type Tensor } from './tensor.ts';
import { REFERENCE_DIR } from '../testing/paths.ts';

function* npyFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* npyFiles(p);
    else if (name.endsWith('.npy')) yield p;
  }
}

const samples: Record<DType, Tensor> = {
  float32: makeTensor('float32', [2, 3], Float32Array.from([1, -2, 3.5, NaN, Infinity, -0])),
  float16: makeTensor('float16', [3], Uint16Array.from([0x3c00, 0x7c00, 0x0001])),
  float64: makeTensor('float64', [2], Float64Array.from([Math.PI, -1e300])),
  int32: makeTensor('int32', [1, 2], Int32Array.from([-7, 2 ** 31 - 1])),
  int64: makeTensor('int64', [2], BigInt64Array.from([-1n, 2n ** 62n])),
  uint8: makeTensor('uint8', [4], Uint8Array.from([0, 1, 128, 255])),
};

describe('npy', () => {
  it('reads every reference .npy with its declared shape', () => {
    let count = 0;
    for (const file of npyFiles(REFERENCE_DIR)) {
      const t = readNpy(file);
      expect(t.data.length).toBe(t.dims.reduce((a, b) => a * b, 1));
      count++;
    }
    expect(count).toBeGreaterThan(100);
  });

  for (const [dtype, t] of Object.entries(samples)) {
    it(`round-trips ${dtype} bit for bit`, () => {
      const back = parseNpy(encodeNpy(t));
      expect(back.dtype).toBe(dtype);
      expect(back.dims).toEqual(t.dims);
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength)).toEqual(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      );
    });
  }

  it('round-trips a 0-d int64 (the U-Net timestep)', () => {
    const t = makeTensor('int64', [], BigInt64Array.from([901n]));
    const back = parseNpy(encodeNpy(t));
    expect(back.dims).toEqual([]);
    expect(back.data[0]).toBe(901n);
  });

  it('parses a Buffer that is a view into a larger pool', () => {
    const bytes = encodeNpy(samples.float32);
    const pool = Buffer.alloc(bytes.length + 37);
    pool.set(bytes, 13);
    const view = pool.subarray(13, 13 + bytes.length);
    expect(Array.from(parseNpy(view, 'view.npy').data as Float32Array)).toEqual(Array.from(samples.float32.data as Float32Array));
  });

  it('refuses a truncated file, naming it', () => {
    const bytes = encodeNpy(samples.float32);
    expect(() => parseNpy(bytes.subarray(0, bytes.length - 3), 'cut.npy')).toThrow(/cut\.npy.*truncated/);
  });

  it('refuses big-endian, Fortran order, unsupported dtypes and bad magic', () => {
    const patch = (from: string, to: string) => {
      const bytes = encodeNpy(samples.float32);
      const text = Buffer.from(bytes).toString('latin1').replace(from, to);
      return Buffer.from(text, 'latin1');
    };
    expect(() => parseNpy(patch("'<f4'", "'>f4'"), 'be.npy')).toThrow(/be\.npy.*big-endian/);
    expect(() => parseNpy(patch("'fortran_order':False", "'fortran_order':True "), 'f.npy')).toThrow(/f\.npy.*Fortran/);
    expect(() => parseNpy(patch("'<f4'", "'<c8'"), 'c.npy')).toThrow(/c\.npy.*unsupported dtype/);
    expect(() => parseNpy(Buffer.from('hello world, not npy'), 'x.npy')).toThrow(/x\.npy.*magic/);
  });
});
