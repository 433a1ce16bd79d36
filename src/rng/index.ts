/** Bit-exact random generators: torch's CPU generator and numpy's legacy RandomState. */
import { UsageError } from '../errors.ts';
import { NumpyLegacyGenerator } from './numpy-legacy.ts';
import { parseSeed } from './seed.ts';
import { TorchCpuGenerator, type TorchCpuOptions } from './torch-cpu.ts';
import type { NoiseGenerator, NoiseKind } from './types.ts';

export { NumpyLegacyGenerator } from './numpy-legacy.ts';
export { TorchCpuGenerator, type TorchCpuOptions } from './torch-cpu.ts';
export { parseSeed } from './seed.ts';
export type { NormalKernel } from './normal-fill.ts';
export type { NoiseGenerator, NoiseKind } from './types.ts';

export const NOISE_KINDS: readonly NoiseKind[] = ['torch-cpu', 'numpy-legacy'];

export function isNoiseKind(value: string): value is NoiseKind {
  return (NOISE_KINDS as readonly string[]).includes(value);
}

/** A generator of the given kind, seeded like the original; bad seeds and kinds throw UsageError. */
export function createGenerator(kind: NoiseKind, seed: number | bigint, options: TorchCpuOptions = {}): NoiseGenerator {
  const value = parseSeed(seed);
  switch (kind) {
    case 'torch-cpu':
      return new TorchCpuGenerator(value, options);
    case 'numpy-legacy':
      return new NumpyLegacyGenerator(value);
    default:
      throw new UsageError(`--generator: expected one of ${NOISE_KINDS.join(', ')}, got '${String(kind)}'`);
  }
}
