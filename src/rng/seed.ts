/**
 * Seed validation. Both generators take an integer seed in [0, 2^64).
 *
 * torch 1.13: `Generator.manual_seed` stores the full 64-bit seed (it is what
 * `initial_seed()` returns) but `at::mt19937`'s constructor initialises the
 * state with `init_genrand(seed & 0xffffffff)`, so seeds that agree in their
 * low 32 bits (0 and 2^32, say) give identical streams. We reproduce that.
 *
 * numpy's legacy `RandomState(seed)` rejects seeds outside [0, 2^32) with a
 * ValueError; we reject them too rather than invent a stream numpy can't make.
 */
import { UsageError } from '../errors.ts';

const TWO_POW_64 = 1n << 64n;
const LOW_32 = 0xffffffffn;

/** Parses and range-checks a seed given as a number, bigint or decimal string (from the CLI). */
export function parseSeed(seed: number | bigint | string, flag = '--seed'): bigint {
  let value: bigint;
  if (typeof seed === 'bigint') value = seed;
  else if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) {
      throw new UsageError(`${flag}: expected an integer in [0, 2^64) (beyond 2^53 pass a bigint), got ${seed}`);
    }
    value = BigInt(seed);
  } else {
    if (!/^\d+$/.test(seed.trim())) {
      throw new UsageError(`${flag}: expected a non-negative decimal integer, got '${seed}'`);
    }
    value = BigInt(seed.trim());
  }
  if (value < 0n || value >= TWO_POW_64) {
    throw new UsageError(`${flag}: expected an integer in [0, 2^64), got ${value}`);
  }
  return value;
}

/** The 32 bits torch's MT19937 is initialised with. */
export function torchSeed32(seed: number | bigint | string): number {
  return Number(parseSeed(seed) & LOW_32);
}

/** numpy legacy seeding: the whole seed, which must fit in 32 bits. */
export function numpySeed32(seed: number | bigint | string): number {
  const value = parseSeed(seed);
  if (value > LOW_32) {
    throw new UsageError(`--seed: numpy's RandomState needs a seed in [0, 2^32), got ${value}`);
  }
  return Number(value);
}
