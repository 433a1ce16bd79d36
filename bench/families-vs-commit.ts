/**
 * Today's families against SD 1.x as it was at an earlier commit (default dde2e7d: the last commit before the
 * pipeline families, i.e. "SD 1.x today" when issue #11 was written):
 *
 *   node --import tsx bench/families-vs-commit.ts [REV] [ROUNDS]
 *
 * The commit is checked out into a temporary git worktree (this checkout's node_modules linked in) and its
 * `generate` runs the SD 1.x baseline of each group of bench/families.ts, interleaved round by round with
 * every case of today's code. Each case's wall / ORT is compared with the old SD 1.x's of the same round
 * (median of the paired differences, as the families part of `npm run bench`). Prints a table; writes nothing
 * but the temporary worktree, which it removes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureForgedModel } from '../src/forge/cache.ts';
import { DIFFUSERS_GROUP, type FamilyCase, FAMILY_SIZE, FORGED_PRESETS, familyJob, forgedGroup, type GenerateTimes, medians, pairedDifference } from './families.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rev = process.argv[2] ?? 'dde2e7d';
const rounds = Number(process.argv[3] ?? 9);

/** generate() of the old commit, printing the timings bench/child.ts prints (its API is the same). */
const OLD_CHILD = `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from './src/pipeline/generate.ts';
import { DEFAULT_SETTINGS } from './src/pipeline/settings.ts';
const job = JSON.parse(process.argv[2]);
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-old-'));
const settings = { ...DEFAULT_SETTINGS, prompt: 'a photograph of an astronaut riding a horse', seed: 42, steps: job.steps, height: job.size, width: job.size, ...job.settings };
const r = await generate({ model: job.model, settings, imageOut: join(tmp, 'image.png') });
rmSync(tmp, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ wallSeconds: r.wallSeconds, ortSeconds: r.ortSeconds, ortCalls: r.ortCalls, ortSessionSeconds: r.ortSessionSeconds, peakRssBytes: 0 }) + '\\n');
`;

function run(cwd: string, script: string, job: unknown): GenerateTimes {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, JSON.stringify(job)], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${script} failed (exit ${r.status}): ${r.stdout}`);
  return JSON.parse(last) as GenerateTimes;
}

const worktree = join(mkdtempSync(join(tmpdir(), 'lockstep-rev-')), 'lockstep');
const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (git('worktree', 'add', '--detach', worktree, rev).status !== 0) throw new Error(`git worktree add ${rev} failed`);
try {
  symlinkSync(join(ROOT, 'node_modules'), join(worktree, 'node_modules'));
  writeFileSync(join(worktree, 'old-child.ts'), OLD_CHILD);
  const forged: Record<string, string> = {};
  for (const preset of FORGED_PRESETS) forged[preset] = await ensureForgedModel(preset, 0);
  const groups = [DIFFUSERS_GROUP, forgedGroup((p) => forged[p])];
  type Entry = { label: string; old: boolean; c: FamilyCase };
  const entries: Entry[] = groups.flatMap((g) => [
    { label: `${g.baseline.label} @ ${rev}`, old: true, c: g.baseline },
    ...[g.baseline, ...g.cases].map((c) => ({ label: c.label, old: false, c })),
  ]);
  const times = new Map<Entry, GenerateTimes[]>(entries.map((e) => [e, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(k + r) % entries.length];
      const job = familyJob(e.c);
      times.get(e)!.push(e.old ? run(worktree, 'old-child.ts', job) : run(ROOT, join(ROOT, 'bench', 'child.ts'), job));
    }
  }
  process.stdout.write(`generate, ${FAMILY_SIZE}×${FAMILY_SIZE}, seed 42, ${rounds} interleaved rounds; paired against SD 1.x at ${rev}, in points of ORT time\n`);
  for (const g of groups) {
    const old = entries.find((e) => e.old && e.c === g.baseline)!;
    for (const e of entries.filter((x) => x.c === g.baseline || g.cases.includes(x.c))) {
      const m = medians(times.get(e)!);
      const paired = e === old ? 'baseline' : (() => {
        const d = pairedDifference(times.get(e)!, times.get(old)!);
        return `${(100 * d.median).toFixed(2)} ± ${(100 * d.standardError).toFixed(2)}  ${d.median <= 0 ? 'met' : 'NOT met'}`;
      })();
      process.stdout.write(`  ${e.label.padEnd(40)} wall ${m.wallSeconds.toFixed(3)} s  wall / ORT ${m.ratio.toFixed(3)}×  own ${(1000 * m.overheadSeconds).toFixed(1)} ms  ${paired}\n`);
    }
  }
} finally {
  git('worktree', 'remove', '--force', worktree);
  rmSync(dirname(worktree), { recursive: true, force: true });
}
