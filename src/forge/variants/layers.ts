/**
 * `--layers PATTERN`: which nodes a fault applies to, by node name. A pattern
 * with `*` is a glob over the whole name (`/up_blocks.1/*`); without, a
 * substring (`mid_block`). Several patterns are comma-separated.
 */
import { UsageError } from '../../errors.ts';
import type { NodeProto } from './graph-edit.ts';

export function matchLayers(candidates: readonly NodeProto[], pattern: string | undefined, what: string): NodeProto[] {
  if (pattern === undefined) return [...candidates];
  const tests = pattern.split(',').map((p) => p.trim()).filter(Boolean).map(toTest);
  if (tests.length === 0) throw new UsageError(`--layers: empty pattern for ${what}`);
  const chosen = candidates.filter((n) => tests.some((t) => t(n.name ?? '')));
  if (chosen.length === 0) {
    const names = candidates.slice(0, 8).map((n) => n.name).join(', ');
    throw new UsageError(`--layers '${pattern}' matches none of the ${candidates.length} ${what} (e.g. ${names})`);
  }
  return chosen;
}

function toTest(p: string): (name: string) => boolean {
  if (!p.includes('*')) return (name) => name.includes(p);
  const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
  return (name) => re.test(name);
}
