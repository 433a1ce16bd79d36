/**
 * Issue #12's cases through the CLI: a broken reference never passes, and
 * nothing outside the named folders is read, written or deleted. Each case
 * checks the exit code, a one-line message naming the culprit (exit 2), no
 * stack trace, and that the outputs the run was pointed at are left as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../src/forge/cache.ts';
import { hashTree } from '../../src/testing/fixtures/bad-inputs.ts';
import { type CliResult, runCli } from '../../src/testing/cli.ts';

const PIPELINE = ['--prompt', 'a red cube', '--seed', '3', '--steps', '2', '--scheduler', 'ddim', '--height', '64', '--width', '64', '--quiet'];

let root: string;
let model: string;
/** A passing run's outputs; every case must leave them as they are. */
const existing = { dir: '', report: '', image: '', trace: '' };

const generate = (m: string, ...extra: string[]) => ['generate', '--model', m, '--out', existing.image, '--trace', existing.trace, ...PIPELINE, ...extra];
const compare = (ref: string, cand: string, ...extra: string[]) => ['compare', '--reference', ref, '--candidate', cand, '--report', existing.report, ...PIPELINE, ...extra];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lockstep-trust-'));
  model = await ensureTinyModel(0);
  existing.dir = join(root, 'existing');
  Object.assign(existing, { report: join(existing.dir, 'report'), image: join(existing.dir, 'image.png'), trace: join(existing.dir, 'trace') });
  expect((await runCli(generate(model))).code).toBe(0);
  expect((await runCli(compare(model, existing.trace))).code).toBe(0);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  name: string;
  argv: () => string[];
  code: 0 | 1 | 2;
  /** What stderr must say (for exit 2: its single line, which names the culprit). */
  stderr: () => RegExp;
  /** Extra checks on the result. */
  then?: (r: CliResult) => void;
}

const CASES: Case[] = [
  // 12. A request that cannot fit is refused before anything is loaded, naming the numbers.
  {
    name: '12: --height 65536 --width 65536 (generate)', argv: () => generate(model, '--height', '65536', '--width', '65536'), code: 2,
    stderr: () => /--height 65536 --width 65536: this run needs an estimated [\d.]+ PiB \(weights [\d.]+ MiB, .* activations .*\) but [\d.]+ [GMT]iB is available/,
  },
  {
    name: '12: --height 65536 --width 65536 (compare)', argv: () => compare(model, model, '--height', '65536', '--width', '65536'), code: 2,
    stderr: () => /--height 65536 --width 65536: this run needs an estimated [\d.]+ PiB/,
  },
];

describe('trust: broken references and files outside the named folders', () => {
  it.each(CASES)('$name', async (c) => {
    const before = hashTree(existing.dir);
    const r = await runCli(c.argv());
    expect(r.code, r.stderr).toBe(c.code);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    if (c.code === 2) expectOneLineError(r.stderr, c);
    else expect(r.stderr.trim()).toMatch(c.stderr());
    c.then?.(r);
    expect(hashTree(existing.dir), 'existing outputs were modified').toBe(before);
  });
});

function expectOneLineError(stderr: string, c: Case): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^lockstep: error: /);
  expect(lines[0]).toMatch(c.stderr());
}
