/**
 * Child process of startup.test.ts: runs each argv list (JSON in argv[2]) through
 * the CLI in turn, printing which npm packages each one newly loaded.
 * `['--import-module', FILE]` imports FILE instead (the library's entry point).
 */
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';

const loaded = (): Set<string> => new Set(readFileSync(process.env.LOCKSTEP_RECORD_PACKAGES!, 'utf8').split('\n').filter(Boolean));
const runs: string[][] = JSON.parse(process.argv[2]!);
const results = [];
let before = new Set<string>();
for (const args of runs) {
  const code = args[0] === '--import-module' ? (await import(args[1]!), 0) : await main(['node', 'lockstep', ...args]);
  const after = loaded();
  results.push({ args, code, packages: [...after].filter((p) => !before.has(p)).sort() });
  before = after;
}
process.stderr.write(`\nRESULTS ${JSON.stringify(results)}\n`);
