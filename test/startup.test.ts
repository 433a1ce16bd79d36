/**
 * Start-up: a command loads what it uses and nothing else. Runs the CLI in a
 * child process whose module loader records every npm package resolved, and
 * checks that the light commands never load the heavy native/charting ones.
 * (How long start-up takes is measured in `npm run bench`, not here.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyGates } from '../src/gates/index.ts';
import { syntheticReport } from '../src/report/testing/fixture.ts';
import { stringifyReport } from '../src/report/schema.ts';
import { writeNpy } from '../src/tensor/npy.ts';
import { REPO_ROOT } from '../src/testing/paths.ts';

const HEAVY = ['onnxruntime-node', 'onnxruntime-common', 'onnxruntime-web', 'playwright-core', 'sharp', '@napi-rs/canvas', 'chart.js'];

interface Run {
  args: string[];
  code: number;
  packages: string[];
}

let runs: Run[];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-startup-'));
  const t = { dtype: 'float32' as const, dims: [1, 4, 8, 8], data: new Float32Array(256).map((_, i) => Math.sin(i)) };
  writeNpy(join(dir, 'a.npy'), t);
  writeNpy(join(dir, 'b.npy'), { ...t, data: t.data.map((v) => v * 1.001) });
  writeFileSync(join(dir, 'report.json'), stringifyReport(applyGates(syntheticReport())));
  const record = join(dir, 'packages.txt');
  writeFileSync(record, '');
  const commands = [
    ['--version'],
    ['--help'],
    ['tokenize', '--tokenizer', join(REPO_ROOT, 'assets/clip-vocab'), '--prompt', 'a red cube'],
    ['noise', '--seed', '1', '--shape', '1,4,8,8', '--out', join(dir, 'noise.npy')],
    ['diff', join(dir, 'a.npy'), join(dir, 'b.npy')],
    ['report', dir, '--no-html'],
    ['--import-module', join(REPO_ROOT, 'src/index.ts')],
    // Control: proves the recorder sees a heavy package when one is loaded.
    ['--import-module', 'onnxruntime-node'],
  ];
  const script = join(REPO_ROOT, 'test/startup/run-commands.ts');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(REPO_ROOT, 'test/startup/record-packages.mjs'), script, JSON.stringify(commands)], {
    env: { ...process.env, LOCKSTEP_RECORD_PACKAGES: record },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const line = child.stderr.split('\n').find((l) => l.startsWith('RESULTS '));
  if (!line) throw new Error(`no RESULTS line from the child (exit ${child.status}):\n${child.stderr}`);
  runs = JSON.parse(line.slice('RESULTS '.length));
});

describe('CLI start-up', () => {
  it.each(['--version', '--help', 'tokenize', 'noise', 'diff', 'report'])('`lockstep %s` loads no ONNX Runtime, sharp, canvas or chart.js', (name) => {
    const run = runs.find((r) => r.args[0] === name)!;
    expect(run.code, `exit code of ${run.args.join(' ')}`).toBe(0);
    expect(run.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it("`import 'lockstep'` loads no ONNX Runtime, sharp, canvas or chart.js (runs load them when called)", () => {
    const run = runs.find((r) => r.args[0] === '--import-module' && r.args[1]!.endsWith('index.ts'))!;
    expect(run.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('the recorder sees what is loaded (commander for the first command, ONNX Runtime when imported)', () => {
    expect(runs[0]!.packages).toContain('commander');
    expect(runs.at(-1)!.packages).toContain('onnxruntime-node');
  });
});
