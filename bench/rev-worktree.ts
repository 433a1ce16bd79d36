/**
 * An earlier commit of this repository, checked out into a temporary git worktree (this checkout's
 * node_modules linked in), whose `generate` the families bench runs as a second baseline: SD 1.x as it
 * was when issue #11 was written (dde2e7d, the last commit before the pipeline families).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunJob } from './child.ts';
import type { GenerateTimes } from './families.ts';

/** The commit the families bench compares with when LOCKSTEP_BENCH_FAMILY_BASE is unset. */
export const FAMILY_BASE_REV = 'dde2e7d';

export interface RevWorktree {
  rev: string;
  /** The worktree's folder (removed by close). */
  dir: string;
  /** One `generate` of the old code in a process of its own. */
  generate(job: RunJob): GenerateTimes;
  close(): void;
}

/**
 * `generate` of the old commit with the bench's settings (its API takes the same options), printing the
 * timings bench/child.ts prints (the peak RSS read by today's bench/peak-rss.ts). Its wall time ends
 * before the sessions are released, as it did then.
 */
const OLD_CHILD = `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from './src/pipeline/generate.ts';
import { DEFAULT_SETTINGS } from './src/pipeline/settings.ts';
import { peakRssBytes } from '${new URL('./peak-rss.ts', import.meta.url).href}';
const job = JSON.parse(process.argv[2]);
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-old-'));
const settings = { ...DEFAULT_SETTINGS, prompt: 'a photograph of an astronaut riding a horse', seed: 42, steps: job.steps, height: job.size, width: job.size, ...job.settings };
const r = await generate({ model: job.model, settings, imageOut: join(tmp, 'image.png') });
rmSync(tmp, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ wallSeconds: r.wallSeconds, ortSeconds: r.ortSeconds, ortCalls: r.ortCalls, ortSessionSeconds: r.ortSessionSeconds, peakRssBytes: peakRssBytes() }) + '\\n');
`;

/** The worktree, or why there is none (no git, a shallow clone without the commit, …). */
export function openRevWorktree(root: string, rev: string): RevWorktree | { unavailable: string } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const found = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
  if (found.error || found.status !== 0) return { unavailable: `commit ${rev} is not in this checkout (${found.error?.message ?? 'git rev-parse failed'})` };
  const dir = join(mkdtempSync(join(tmpdir(), 'lockstep-rev-')), 'lockstep');
  const added = git('worktree', 'add', '--detach', dir, rev);
  if (added.status !== 0) return { unavailable: `git worktree add ${rev} failed: ${added.stderr.trim()}` };
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'old-child.ts'), OLD_CHILD);
  return {
    rev,
    dir,
    generate(job) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'old-child.ts', JSON.stringify(job)], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !last.startsWith('{')) throw new Error(`generate at ${rev} failed (exit ${r.status}): ${r.stdout}`);
      return JSON.parse(last) as GenerateTimes;
    },
    close() {
      git('worktree', 'remove', '--force', dir);
      rmSync(dirname(dir), { recursive: true, force: true });
    },
  };
}
