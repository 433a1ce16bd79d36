// `npm run build`: compiles src/ into dist/ (.js + .d.ts) with tsc, then copies
// the runtime files tsc does not emit (the wasm metrics kernel). Plain Node, so
// `npm pack` (prepack) needs nothing but the dev dependencies.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const RUNTIME_FILES = /\.wasm$/;

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
  if (RUNTIME_FILES.test(file)) cpSync(join(src, file), join(dist, file));
}
process.stdout.write(`built ${relative(process.cwd(), dist) || dist}/\n`);
