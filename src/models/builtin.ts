/**
 * The models lockstep ships: `builtin:shapes` (a small SD 1.x model trained on synthetic shapes, committed
 * under models/shapes/model) and `builtin:tiny[?preset=P][&seed=N]` (random weights, forged deterministically
 * on first use; presets as `lockstep forge tiny --preset`, except those too big to forge on the fly).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { ensureForgedModel } from '../forge/cache.ts';
import { PRESETS } from '../forge/config.ts';

/** The package root: the folder holding package.json, found upwards from this module (sources or dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('lockstep: cannot find its package root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** The trained shapes model (models/shapes/README.md is its model card). */
export const SHAPES_MODEL_DIR = resolve(packageRoot(), 'models', 'shapes', 'model');

/** Presets a builtin may name: all but those with external data (sd15: ~4 GB, forge it once with `lockstep forge tiny`). */
export const BUILTIN_PRESETS: readonly string[] = Object.keys(PRESETS).filter((name) => !PRESETS[name].externalData);
export const BUILTIN_HELP =
  `"builtin:shapes" (trained, draws), "builtin:tiny", "builtin:tiny?seed=N" or "builtin:tiny?preset=P&seed=N" ` +
  `(random weights; P one of ${BUILTIN_PRESETS.join(', ')})`;

export function isBuiltin(model: string): boolean {
  return model.startsWith('builtin:');
}

/** A forged builtin: which preset, which seed. */
export interface ForgedBuiltin {
  preset: string;
  seed: number;
}

/**
 * `builtin:tiny[?preset=P][&seed=N]` (keys in any order, each at most once) → preset and seed;
 * `builtin:shapes` → 'shapes'; anything else → null.
 */
export function parseBuiltin(model: string): ForgedBuiltin | 'shapes' | null {
  if (model === 'builtin:shapes') return 'shapes';
  const m = /^builtin:tiny(?:\?(.*))?$/.exec(model);
  if (!m) return null;
  const found: ForgedBuiltin = { preset: 'tiny', seed: 0 };
  const seen = new Set<string>();
  for (const pair of m[1] === undefined ? [] : m[1].split('&')) {
    const [key, value, extra] = pair.split('=');
    if (extra !== undefined || value === undefined || seen.has(key)) return null;
    seen.add(key);
    if (key === 'seed' && /^\d+$/.test(value) && Number.isSafeInteger(Number(value))) found.seed = Number(value);
    else if (key === 'preset' && BUILTIN_PRESETS.includes(value)) found.preset = value;
    else return null;
  }
  return found;
}

/** The folder of a builtin model, forging builtin:tiny on first use. `where` names the flag or key for errors. */
export async function resolveBuiltin(model: string, where: string): Promise<string> {
  const parsed = parseBuiltin(model);
  if (!parsed) throw new UsageError(`${where}: unknown builtin "${model}" (expected ${BUILTIN_HELP})`);
  if (parsed !== 'shapes') return ensureForgedModel(parsed.preset, parsed.seed);
  if (!existsSync(join(SHAPES_MODEL_DIR, 'model_index.json'))) throw new UsageError(`${where}: the shapes model is missing from ${SHAPES_MODEL_DIR}`);
  return SHAPES_MODEL_DIR;
}
