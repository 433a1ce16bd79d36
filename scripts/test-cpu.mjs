// Where `npm test`'s time goes: `LOCKSTEP_TEST_CPU=cpu.jsonl npx vitest run`, then
// `node scripts/test-cpu.mjs cpu.jsonl` prints each test file's CPU seconds (its
// worker's own and its child processes'), heaviest first, the total, and the
// least wall time that total allows on N cores (default 2, CI's).
import { readFileSync } from 'node:fs';

const [file, coresArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/test-cpu.mjs cpu.jsonl [cores]\n');
  process.exit(2);
}
const cores = Number(coresArg ?? 2);
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
rows.sort((a, b) => b.ownCpuS + b.childrenCpuS - (a.ownCpuS + a.childrenCpuS));
const total = rows.reduce((s, r) => s + r.ownCpuS + r.childrenCpuS, 0);
process.stdout.write('cpu s   worker  children  wall s  file\n');
for (const r of rows) {
  const cpu = r.ownCpuS + r.childrenCpuS;
  process.stdout.write(`${cpu.toFixed(1).padStart(6)} ${r.ownCpuS.toFixed(1).padStart(7)} ${r.childrenCpuS.toFixed(1).padStart(9)} ${r.wallS.toFixed(1).padStart(7)}  ${r.file}\n`);
}
process.stdout.write(`${rows.length} files, ${total.toFixed(1)} CPU s in test workers and their children; on ${cores} cores at least ${(total / cores).toFixed(0)} s wall (vitest's own transform work comes on top)\n`);
