/**
 * Forged models cached under `.cache/models/`, forged on first use. Several
 * vitest workers may ask at once: each forges into its own temporary sibling and
 * renames it into place; a rename that loses the race discards its copy.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../testing/paths.ts';
import { TINY } from './config.ts';
import { forgePipeline, presetConfig } from './tiny.ts';
import { FORGE_VERSION } from './version.ts';

export const MODELS_CACHE_DIR = join(CACHE_DIR, 'models');

let counter = 0;

/**
 * The folder of the tiny pipeline for `seed`, forging it if it is not cached yet.
 * `cacheDir` is for tests; everything else uses `.cache/models`.
 */
export async function ensureTinyModel(seed = 0, cacheDir = MODELS_CACHE_DIR): Promise<string> {
  return ensureForgedModel(TINY.preset, seed, cacheDir);
}

/** The folder of `preset` (a name in PRESETS) forged with `seed`: `<cache>/<preset>-seed<N>-v<forge version>`. */
export async function ensureForgedModel(preset: string, seed = 0, cacheDir = MODELS_CACHE_DIR): Promise<string> {
  const config = presetConfig(preset, 'forge cache: preset');
  const dir = join(cacheDir, `${preset}-seed${seed}-v${FORGE_VERSION}`);
  // forge.json is written last, so its presence means a complete folder (and the rename is atomic anyway).
  if (existsSync(join(dir, 'forge.json'))) return dir;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${counter++}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    forgePipeline({ outDir: tmp, seed, config });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process renamed its copy into place first: theirs is identical, use it.
    if (existsSync(join(dir, 'forge.json'))) return dir;
    throw err;
  }
  return dir;
}
