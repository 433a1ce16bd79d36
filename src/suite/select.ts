/** Which cases a run takes: --case NAME (repeatable) and --shard i/n (1-based, round-robin). */
import { UsageError } from '../errors.ts';
import type { Suite, SuiteCase } from './load.ts';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard ${text}: expected i/n with 1 ≤ i ≤ n, e.g. 1/4`);
  return { index, count };
}

export function selectCases(suite: Suite, names: readonly string[] = [], shard?: Shard): SuiteCase[] {
  for (const n of names) {
    if (!suite.cases.some((c) => c.name === n)) {
      throw new UsageError(`--case ${n}: ${suite.file} has no such case (cases: ${suite.cases.map((c) => c.name).join(', ')})`);
    }
  }
  const picked = names.length ? suite.cases.filter((c) => names.includes(c.name)) : suite.cases;
  // Round-robin by position in the file, so each shard gets a similar mix.
  return shard ? picked.filter((c) => c.index % shard.count === shard.index - 1) : picked;
}
