/**
 * The models lockstep ships: `builtin:shapes` (a small SD 1.x model trained on synthetic shapes, committed
 * under models/shapes/model) and `builtin:tiny[?seed=N]` (random weights, forged deterministically on first use).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { ensureTinyModel } from '../forge/cache.ts';

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

const BUILTIN = /^builtin:(shapes|tiny)(?:\?seed=(\d+))?$/;
export const BUILTIN_HELP = '"builtin:shapes" (trained, draws), "builtin:tiny" or "builtin:tiny?seed=N" (random weights)';

export function isBuiltin(model: string): boolean {
  return model.startsWith('builtin:');
}

/** The folder of a builtin model, forging builtin:tiny on first use. `where` names the flag or key for errors. */
export async function resolveBuiltin(model: string, where: string): Promise<string> {
  const m = BUILTIN.exec(model);
  if (!m || (m[1] === 'shapes' && m[2] !== undefined)) throw new UsageError(`${where}: unknown builtin "${model}" (expected ${BUILTIN_HELP})`);
  if (m[1] === 'tiny') return ensureTinyModel(m[2] === undefined ? 0 : Number(m[2]));
  if (!existsSync(join(SHAPES_MODEL_DIR, 'model_index.json'))) throw new UsageError(`${where}: the shapes model is missing from ${SHAPES_MODEL_DIR}`);
  return SHAPES_MODEL_DIR;
}
