/**
 * The CPU provider is bit-reproducible (ENV-NOTES), so the same command run
 * twice must write the same bytes: every trace file, and the report apart from
 * its creation time and timings. Each command runs twice into the same paths
 * (the first run's files held in memory), so paths recorded inside are equal too.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../src/forge/cache.ts';
import { runCli } from '../src/testing/cli.ts';

const PIPELINE = ['--prompt', 'a red cube', '--negative-prompt', 'blurry', '--seed', '11', '--steps', '3', '--height', '64', '--width', '64', '--quiet'];
const CPU = ['--provider', 'cpu'];
const CPU_BOTH = ['--ref-provider', 'cpu', '--cand-provider', 'cpu'];

let root: string;
let model: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lockstep-determinism-'));
  model = await ensureTinyModel(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir` by relative path. */
function snapshot(dir: string): Map<string, Buffer> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [join(e.parentPath, e.name).slice(dir.length + 1), readFileSync(join(e.parentPath, e.name))]));
}

/** Runs `argv` twice, clearing `outDir` before each run; returns both runs' files. */
async function twice(argv: string[], outDir: string): Promise<[Map<string, Buffer>, Map<string, Buffer>]> {
  const runs: Map<string, Buffer>[] = [];
  for (let i = 0; i < 2; i++) {
    rmSync(outDir, { recursive: true, force: true });
    const r = await runCli(argv);
    expect(r.code, r.stderr).toBe(0);
    runs.push(snapshot(outDir));
  }
  return [runs[0], runs[1]];
}

/** report.json without the fields that legitimately change from run to run. */
function reportWithoutClock(bytes: Buffer): unknown {
  const { createdAt, timing, memory, ...rest } = JSON.parse(bytes.toString('utf8'));
  expect(typeof createdAt).toBe('string');
  // The memory available when the run started is the machine's state, like the clock.
  expect(memory.availableBytes).toBeGreaterThan(0);
  // Time inside onnxruntime (session create/release + runs) is part of the wall time, never more.
  expect(timing.ortSeconds).toBeGreaterThan(0);
  expect(timing.ortSessionSeconds).toBeGreaterThan(0);
  expect(timing.ortSeconds + timing.ortSessionSeconds).toBeLessThanOrEqual(timing.wallSeconds);
  return { ...rest, memory: { ...memory, availableBytes: null } };
}

const markdownWithoutClock = (bytes: Buffer) => bytes.toString('utf8').replace(/wall [\d.]+ s, ORT [\d.]+ s/, 'wall … s, ORT … s');

describe('determinism on the CPU provider', () => {
  it('generate --trace twice: every trace file byte-identical, and the image too', async () => {
    const out = join(root, 'generate');
    const [a, b] = await twice(['generate', '--model', model, '--out', join(out, 'image.png'), '--trace', join(out, 'trace'), ...PIPELINE, ...CPU], out);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    expect(a.size).toBeGreaterThan(10);
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), name).toBe(true);
  });

  it('compare twice: report.json identical but for createdAt and timing, report.md but for its timing line', async () => {
    const out = join(root, 'compare');
    const [a, b] = await twice(['compare', '--reference', model, '--candidate', model, '--report', out, ...PIPELINE, ...CPU_BOTH], out);
    expect(reportWithoutClock(a.get('report.json')!)).toEqual(reportWithoutClock(b.get('report.json')!));
    expect(markdownWithoutClock(a.get('report.md')!)).toBe(markdownWithoutClock(b.get('report.md')!));
    expect(markdownWithoutClock(a.get('report.md')!)).toContain('wall … s, ORT … s');
  });
});
