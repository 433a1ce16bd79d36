/**
 * Start-up of the published CLI against `node -e 0`, measured in the same run.
 * The compiled package (scripts/build.mjs → dist/) is laid out as npm installs
 * it — bin/lockstep.mjs, dist/, assets/, package.json — in a temporary folder
 * whose node_modules links to the checkout's, so bin/lockstep.mjs takes its
 * installed-package path. Every round runs each command once, interleaved, so
 * load from other work on the machine falls on all of them alike; medians are
 * compared. Also timed, without a target: `--version` through the checkout's
 * bin (the TypeScript sources through tsx), as every call ran before dist/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = 15;

export interface StartupFigures {
  /** Median wall milliseconds per command. */
  nodeMs: number;
  versionMs: number;
  helpMs: number;
  noiseMs: number;
  sourcesVersionMs: number;
}

export function measureStartup(root: string): StartupFigures {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
  const installed = mkdtempSync(join(tmpdir(), 'lockstep-startup-'));
  try {
    for (const part of ['bin', 'dist', 'assets', 'package.json']) cpSync(join(root, part), join(installed, part), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'));
    mkdirSync(join(installed, 'out'));
    const bin = join(installed, 'bin/lockstep.mjs');
    const commands: Record<keyof StartupFigures, string[]> = {
      nodeMs: ['-e', '0'],
      versionMs: [bin, '--version'],
      helpMs: [bin, '--help'],
      noiseMs: [bin, 'noise', '--seed', '1', '--shape', '1,4,64,64', '--out', join(installed, 'out/noise.npy')],
      sourcesVersionMs: [join(root, 'bin/lockstep.mjs'), '--version'],
    };
    const times = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]])) as Record<keyof StartupFigures, number[]>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(commands) as [keyof StartupFigures, string[]][]) times[name].push(timeRun(args));
    }
    return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as unknown as StartupFigures;
  } finally {
    rmSync(installed, { recursive: true, force: true });
  }
}

function timeRun(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
