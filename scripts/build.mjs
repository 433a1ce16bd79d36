// `npm run build` (and `npm pack`, through prepack): compiles src/ into dist/
// (.js + .d.ts) with tsc, then copies the runtime files tsc does not emit (the
// wasm metrics kernel, worker and browser-page scripts). Builds into a temporary folder and swaps it in, so a
// failed build leaves the previous dist/ whole. Plain Node: needs no tsx.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const tmp = `${dist}.tmp-${process.pid}`;
// Files modules load at run time by URL (test/package.test.ts checks the tarball holds each one).
const RUNTIME_FILES = /\.(wasm|mjs)$/;

rmSync(tmp, { recursive: true, force: true });
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
  for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (RUNTIME_FILES.test(file)) cpSync(join(src, file), join(tmp, file));
  }
  const old = `${dist}.old-${process.pid}`;
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write('built dist/\n');
