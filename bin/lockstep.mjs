#!/usr/bin/env node
// The `lockstep` command. An installed package runs the compiled JavaScript in
// dist/. A checkout of the repository (src/ beside this file) runs the
// TypeScript sources through tsx instead, so edits take effect without a build
// and `npm ci && npm run demo` needs none.
import { existsSync } from 'node:fs';

// A reader that stops early (`lockstep schedulers | head`) closes the pipe: later output is dropped and the
// command finishes its work (a run still writes its report), instead of dying on an unhandled EPIPE.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
});

const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv);
