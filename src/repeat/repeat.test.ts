import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { float32 } from '../tensor/tensor.ts';
import { SpreadTracker } from './self-consistency.ts';
import { runCli as cli } from '../testing/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-repeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SpreadTracker', () => {
  it('reports bitwise identity, and the spread of later runs against run 1', () => {
    const tr = new SpreadTracker();
    tr.see(1, 'a', float32([4], [1, 2, 3, 4]));
    tr.see(1, 'b', float32([2], [1, 1]));
    tr.see(2, 'a', float32([4], [1, 2, 3, 4]));
    tr.see(2, 'b', float32([2], [1, 1.5]));
    tr.see(3, 'a', float32([4], [1, 2, 3, 4]));
    tr.see(3, 'b', float32([2], [1, 0.75]));
    const [a, b] = tr.spreads();
    expect(a).toEqual({ name: 'a', identical: true, differingRuns: [], maxAbs: 0, minCosine: 1 });
    expect(b.identical).toBe(false);
    expect(b.differingRuns).toEqual([2, 3]);
    expect(b.maxAbs).toBe(0.5);
    expect(b.minCosine).toBeCloseTo((1 + 1.5) / (Math.SQRT2 * Math.hypot(1, 1.5)), 12);
  });

  it('a tensor only a later run emitted counts as a difference', () => {
    const tr = new SpreadTracker();
    tr.see(1, 'a', float32([1], [1]));
    tr.see(2, 'extra', float32([1], [1]));
    expect(tr.spreads().find((s) => s.name === 'extra')?.identical).toBe(false);
  });
});

describe('lockstep repeat', () => {

  it('the CPU build is bitwise deterministic over fresh runs (exit 0, repeat.json)', async () => {
    const model = await ensureTinyModel(0);
    const report = join(dir, 'rep');
    const r = await cli(['repeat', '--model', model, '--runs', '2', '--prompt', 'a cat', '--seed', '5', '--steps', '3', '--height', '64', '--width', '64', '--report', report, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/DETERMINISTIC/);
    const doc = JSON.parse(readFileSync(join(report, 'repeat.json'), 'utf8'));
    expect(doc.deterministic).toBe(true);
    const names = doc.tensors.map((t: { name: string }) => t.name);
    expect(names).toContain('steps/002/noise_pred');
    expect(names).toContain('final/image');
  });

  it('--runs below 2 cannot run (exit 2)', async () => {
    expect((await cli(['repeat', '--model', dir, '--runs', '1'])).code).toBe(2);
  });
});
