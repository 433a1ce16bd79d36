import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { createGenerator, NumpyLegacyGenerator, TorchCpuGenerator } from './index.ts';
import { parseSeed } from './seed.ts';

describe('createGenerator', () => {
  it('builds each kind', () => {
    expect(createGenerator('torch-cpu', 0)).toBeInstanceOf(TorchCpuGenerator);
    expect(createGenerator('numpy-legacy', 0)).toBeInstanceOf(NumpyLegacyGenerator);
    expect((createGenerator('torch-cpu', 0, { kernel: 'scalar' }) as TorchCpuGenerator).kernel).toBe('scalar');
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
    ['unsafe integer', 2 ** 60],
    ['2^64', 1n << 64n],
  ])('rejects a %s seed with a UsageError naming --seed', (_, seed) => {
    expect(() => createGenerator('torch-cpu', seed as number | bigint)).toThrow(UsageError);
    expect(() => createGenerator('torch-cpu', seed as number | bigint)).toThrow(/--seed/);
  });

  it('accepts the full 64-bit range as bigint', () => {
    expect(() => createGenerator('torch-cpu', (1n << 64n) - 1n)).not.toThrow();
  });

  it('rejects an unknown kind naming --generator', () => {
    expect(() => createGenerator('philox' as never, 0)).toThrow(/--generator.*torch-cpu/);
  });
});

describe('parseSeed', () => {
  it('parses decimal strings exactly, beyond 2^53', () => {
    expect(parseSeed('18446744073709551615')).toBe((1n << 64n) - 1n);
    expect(parseSeed(' 42 ')).toBe(42n);
  });

  it.each(['', '-3', '1e3', '0x10', '12abc'])('rejects %j naming the flag', (text) => {
    expect(() => parseSeed(text, '--seed')).toThrow(/--seed/);
  });
});
