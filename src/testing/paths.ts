/** Where tests find the shared reference data and scratch space. */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared/reference/` beside the checkout (CI clones with shared/ beside it). */
export const REFERENCE_DIR = process.env.LOCKSTEP_REFERENCE ?? resolve(REPO_ROOT, '../shared/reference');
export const TINY_SD_REFERENCE = join(REFERENCE_DIR, 'tiny-sd');
export const CACHE_DIR = join(REPO_ROOT, '.cache');
