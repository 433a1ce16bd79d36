import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { bitDiff, readReference } from '../../rng/test-helpers.ts';
import { readNpy } from '../../tensor/npy.ts';
import { main } from '../main.ts';

describe('lockstep noise', () => {
  let dir: string;
  let stderr: MockInstance;
  const errText = () => stderr.mock.calls.map((c) => String(c[0])).join('');
  const run = (...args: string[]) => main(['node', 'lockstep', 'noise', ...args]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-noise-'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes torch.randn latents bit for bit (seed 42, 1x4x64x64, default generator)', async () => {
    const out = join(dir, 'latents.npy');
    expect(await run('--seed', '42', '--shape', '1,4,64,64', '--out', out)).toBe(0);
    const written = readNpy(out);
    const ref = readReference('randn/torch_randn_seed42_1x4x64x64.npy');
    expect(written.dtype).toBe('float32');
    expect(written.dims).toEqual([1, 4, 64, 64]);
    expect(bitDiff(written.data as Float32Array, ref.data).mismatches).toBe(0);
  });

  it('writes numpy legacy randn bit for bit', async () => {
    const out = join(dir, 'np.npy');
    expect(await run('--seed', '0', '--shape', '1, 4, 8, 8', '--generator', 'numpy-legacy', '--out', out)).toBe(0);
    const ref = readReference('randn/numpy_randn_seed0_1x4x8x8.npy');
    expect(bitDiff(readNpy(out).data as Float32Array, ref.data).mismatches).toBe(0);
  });

  it('--kernel scalar selects the portable kernel', async () => {
    const out = join(dir, 'scalar.npy');
    expect(await run('--seed', '0', '--shape', '16', '--kernel', 'scalar', '--out', out)).toBe(0);
    const ref = readReference('randn/scalar_path/torch_randn_seed0_16_float32.npy');
    expect(bitDiff(readNpy(out).data as Float32Array, ref.data).mismatches).toBe(0);
  });

  it.each([
    [['--seed', '-1', '--shape', '4'], /--seed/],
    [['--seed', '1.5', '--shape', '4'], /--seed/],
    [['--seed', '18446744073709551616', '--shape', '4'], /--seed.*2\^64/],
    [['--seed', '1', '--shape', '1,0,4'], /--shape/],
    [['--seed', '1', '--shape', '1,,4'], /--shape/],
    [['--seed', '1', '--shape', '4x4'], /--shape/],
    [['--seed', '1', '--shape', '65536,65536'], /--shape.*at most/],
    [['--seed', '1', '--shape', '4', '--generator', 'philox'], /--generator.*torch-cpu, numpy-legacy/],
    [['--seed', '4294967296', '--shape', '4', '--generator', 'numpy-legacy'], /--seed.*2\^32/],
    [['--seed', '1', '--shape', '4', '--kernel', 'avx512'], /--kernel/],
    [['--seed', '1', '--shape', '4', '--generator', 'numpy-legacy', '--kernel', 'scalar'], /--kernel.*torch-cpu/],
  ])('exits 2 for %j, naming the flag', async (args, message) => {
    const out = join(dir, 'bad.npy');
    expect(await run(...args, '--out', out)).toBe(2);
    expect(errText()).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 when --out is not an .npy file', async () => {
    expect(await run('--seed', '1', '--shape', '4', '--out', join(dir, 'x.bin'))).toBe(2);
    expect(errText()).toMatch(/--out.*\.npy/);
  });
});
