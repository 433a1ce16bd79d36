import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGenerator, TorchCpuGenerator } from './index.ts';
import type { NoiseGenerator } from './types.ts';
import { bitDiff, RANDN_DIR, readReference } from './test-helpers.ts';

interface RandnCase {
  file: string;
  generator: 'torch-cpu' | 'numpy-legacy';
  call: 'randn' | 'rand';
  seed: number;
  shape: number[];
  sequence_index?: number;
}

const INDEX: { cases: RandnCase[] } = JSON.parse(readFileSync(join(RANDN_DIR, 'index.json'), 'utf8'));

describe('reference randn/index.json, bit for bit', () => {
  // Cases with a sequence_index are successive draws from one generator, in index order.
  const sequences = new Map<string, NoiseGenerator>();

  it('lists cases for both generators, rand, and a two-draw sequence', () => {
    expect(INDEX.cases.some((c) => c.generator === 'numpy-legacy')).toBe(true);
    expect(INDEX.cases.some((c) => c.call === 'rand')).toBe(true);
    expect(INDEX.cases.filter((c) => c.sequence_index !== undefined).map((c) => c.sequence_index)).toEqual([0, 1]);
  });

  for (const c of INDEX.cases) {
    it(`${c.file} (${c.generator} ${c.call} seed ${c.seed} [${c.shape}])`, () => {
      let gen: NoiseGenerator;
      if (c.sequence_index === undefined) gen = createGenerator(c.generator, c.seed);
      else {
        const key = `${c.generator}:${c.seed}`;
        if (c.sequence_index === 0) sequences.set(key, createGenerator(c.generator, c.seed));
        gen = sequences.get(key)!;
      }
      const ref = readReference(c.file);
      const out = c.call === 'rand' ? (gen as TorchCpuGenerator).rand(c.shape) : gen.randn(c.shape);
      expect(out.dtype).toBe('float32');
      expect(out.dims).toEqual(ref.dims);
      expect(bitDiff(out.data, ref.data)).toMatchObject({ mismatches: 0 });
    });
  }
});

describe('TorchCpuGenerator semantics', () => {
  const ref3 = readReference('randn/torch_randn_seed42_3.npy').data;

  it('keeps the cached Box–Muller value between calls (three 1-element draws = one 3-element draw)', () => {
    const g = new TorchCpuGenerator(42);
    const parts = [g.randn([1]), g.randn([1]), g.randn([1])].map((t) => t.data[0]);
    expect(bitDiff(Float32Array.from(parts), ref3).mismatches).toBe(0);
  });

  it('manualSeed restarts the stream and drops the cached value', () => {
    const g = new TorchCpuGenerator(7);
    g.randn([1]); // leaves a cached sine half behind
    g.manualSeed(42);
    expect(bitDiff(g.randn([3]).data, ref3).mismatches).toBe(0);
  });

  it('a ≥16-element draw does not consume the cached value (torch: only the double path uses it)', () => {
    const g = new TorchCpuGenerator(42);
    const first = g.randn([1]).data[0];
    g.randn([16]);
    const second = g.randn([1]).data[0];
    expect([first, second]).toEqual([ref3[0], ref3[1]]);
  });

  it('uses only the low 32 bits of the seed for the stream, like torch 1.13', () => {
    const low = new TorchCpuGenerator(42).randn([20]).data;
    expect(bitDiff(new TorchCpuGenerator(42n + (1n << 32n)).randn([20]).data, low).mismatches).toBe(0);
    expect(bitDiff(new TorchCpuGenerator((1n << 64n) - (1n << 32n) + 42n).randn([20]).data, low).mismatches).toBe(0);
  });

  it('returns +0 rather than −0 and only finite values for a large draw', () => {
    const d = new TorchCpuGenerator(3).randn([4, 4096]).data;
    expect(d.every((v) => Number.isFinite(v) && !Object.is(v, -0))).toBe(true);
  });
});

describe('TorchCpuGenerator.skipRandn: the stream where randn leaves it', () => {
  it("skipping torch's first draw gives its second (randn/torch_seq_seed42_draw1.npy)", () => {
    const g = new TorchCpuGenerator(42);
    g.skipRandn([1, 4, 8, 8]);
    expect(bitDiff(g.randn([1, 4, 8, 8]).data, readReference('randn/torch_seq_seed42_draw1.npy').data).mismatches).toBe(0);
  });

  // Sizes around the 16-element blocks (a redrawn tail or not), the double path (< 16, cached value)
  // and more words than one MT19937 state (624) holds.
  for (const first of [[1], [3], [15], [16], [17], [31], [32], [1, 4, 8, 9], [700], [1, 4, 64, 64]]) {
    it(`skipRandn([${first}]) then randn equals randn([${first}]) then randn`, () => {
      const drawn = new TorchCpuGenerator(7);
      const skipped = new TorchCpuGenerator(7);
      drawn.randn(first);
      skipped.skipRandn(first);
      for (const next of [[1], [40], [3]]) expect(bitDiff(skipped.randn(next).data, drawn.randn(next).data).mismatches).toBe(0);
    });
  }
});

describe("TorchCpuGenerator({ kernel: 'scalar' }) against randn/scalar_path, bit for bit", () => {
  const dir = join(RANDN_DIR, 'scalar_path');
  const files = readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
  // Files named ..._call0 / ..._call1 are successive draws from one generator.
  const sequences = new Map<number, TorchCpuGenerator>();

  it('has the files the README describes, sequence included', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(files.filter((f) => /_call[01]\.npy$/.test(f))).toHaveLength(2);
  });

  for (const file of files) {
    const m = /seed(\d+)_([\dx]+)_float32(?:_call(\d))?\.npy$/.exec(file);
    it(file, () => {
      expect(m, `unexpected file name ${file}`).not.toBeNull();
      const [seed, dims, call] = [Number(m![1]), m![2].split('x').map(Number), m![3]];
      let g: TorchCpuGenerator;
      if (call === undefined) g = new TorchCpuGenerator(seed, { kernel: 'scalar' });
      else {
        if (call === '0') sequences.set(seed, new TorchCpuGenerator(seed, { kernel: 'scalar' }));
        g = sequences.get(seed)!;
      }
      const ref = readReference(join('randn/scalar_path', file));
      expect(bitDiff(g.randn(dims).data, ref.data)).toMatchObject({ mismatches: 0 });
    });
  }

  it('differs from the AVX2 kernel in a large share of elements (the option selects a different kernel)', () => {
    const ref = readReference('randn/scalar_path/torch_randn_seed0_1x4x64x64_float32.npy');
    const avxData = new TorchCpuGenerator(0).randn([1, 4, 64, 64]).data;
    const avx = bitDiff(avxData, ref.data);
    expect(avx.mismatches / avx.count).toBeGreaterThan(0.3);
    // ...but only by rounding: ulps near zero are tiny, so bound the absolute difference.
    const maxAbs = avxData.reduce((m, v, i) => Math.max(m, Math.abs(v - ref.data[i])), 0);
    expect(maxAbs).toBeLessThan(2e-6);
  });
});
