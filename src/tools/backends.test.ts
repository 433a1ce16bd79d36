/** Backend builds through `compare`: providers this binary lacks, and optimization levels as builds. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { runCli as cli } from '../testing/cli.ts';

const RUN = ['--prompt', 'a teapot', '--seed', '2', '--steps', '3', '--height', '64', '--width', '64', '--quiet'];
const dir = mkdtempSync(join(tmpdir(), 'lockstep-backends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


describe('compare across backend builds', () => {
  it('a provider not in this onnxruntime-node binary is explained (exit 2)', async () => {
    const model = await ensureTinyModel(0);
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--cand-provider', 'cuda', '--report', join(dir, 'cuda'), ...RUN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/execution provider 'cuda' is not available in this onnxruntime-node build/);
    expect(r.stderr).toMatch(/model\.onnx/);
  });

  it('a memory option that is not on or off is refused naming the flag (exit 2)', async () => {
    const model = await ensureTinyModel(0);
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--cand-mem-arena', 'maybe', '--report', join(dir, 'bad'), ...RUN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cand-mem-arena: expected on or off, got 'maybe'/);
  });

  it('the same model under opt level all vs extended runs and records both backends', async () => {
    const model = await ensureTinyModel(0);
    const report = join(dir, 'opt');
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--ref-opt-level', 'extended', '--cand-opt-level', 'all', '--ref-threads', '1', '--cand-threads', '2', '--cand-mem-arena', 'off', '--cand-prepacking', 'off', '--report', report, ...RUN]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.complete).toBe(true);
    const node = { runtime: 'onnxruntime-node', runtimeVersion: doc.versions.onnxruntime };
    const memory = { memArena: true, memPattern: false, prepacking: true };
    expect(doc.builds.reference.backend).toEqual({ providers: ['cpu'], graphOptimizationLevel: 'extended', intraOpThreads: 1, interOpThreads: null, deterministic: false, ...node, ...memory });
    expect(doc.builds.candidate.backend).toEqual({ providers: ['cpu'], graphOptimizationLevel: 'all', intraOpThreads: 2, interOpThreads: null, deterministic: false, ...node, ...memory, memArena: false, prepacking: false });
    // `all` rewrites the convolution layouts: close, but not bit-identical to `extended` (ENV-NOTES).
    const tf = doc.steps[0].teacherForced.noisePred;
    expect(tf.maxAbs).toBeGreaterThan(0);
    expect(tf.relL2).toBeLessThan(1e-4);
  });
});
