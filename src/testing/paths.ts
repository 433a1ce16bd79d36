/** Where tests find the shared reference data, and where forged models are cached. */
import { fileURLToPath } from 'node:url';
import { basename, dirname, join, resolve } from 'node:path';

/** The repository checkout, or the installed package's folder (dist/ mirrors src/, so the depth is the same). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared/reference/` beside the checkout (CI clones with shared/ beside it). */
export const REFERENCE_DIR = process.env.LOCKSTEP_REFERENCE ?? resolve(REPO_ROOT, '../shared/reference');
export const TINY_SD_REFERENCE = join(REFERENCE_DIR, 'tiny-sd');
/**
 * Forged models, variants and calibrations: `.cache/` in a checkout;
 * `node_modules/.cache/lockstep/` when installed as a package (not inside the
 * package, which npm replaces on every install); LOCKSTEP_CACHE_DIR overrides.
 */
export const CACHE_DIR = process.env.LOCKSTEP_CACHE_DIR ?? defaultCacheDir();

function defaultCacheDir(): string {
  const parent = dirname(REPO_ROOT);
  return basename(parent) === 'node_modules' ? join(parent, '.cache', 'lockstep') : join(REPO_ROOT, '.cache');
}
/** Tiny models and diffusers traces of every pipeline family (scripts/reference/families.py), committed. */
export const FAMILIES_REFERENCE = join(REPO_ROOT, 'test', 'reference', 'families');
