/**
 * onnxruntime-web's WebAssembly backend in Node as a build: compare, calibrated
 * suite thresholds (a wasm candidate passes them, an int8 one fails them).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../forge/cache.ts';
import { loadSuite } from '../../suite/load.ts';
import { runSuite } from '../../suite/run.ts';
import { runCli as cli } from '../../testing/cli.ts';
import '../../testing/matchers.ts';
import { ortWebVersion } from '../../version.ts';
import { memoryHint } from './ort-web.ts';

const WEB_VERSION = ortWebVersion();
const RUN = ['--prompt', 'a teapot', '--seed', '2', '--steps', '3', '--height', '64', '--width', '64', '--quiet'];
const dir = mkdtempSync(join(tmpdir(), 'lockstep-wasm-'));
let model: string;
beforeAll(async () => {
  model = await ensureTinyModel(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--cand-provider wasm (onnxruntime-web in Node)', () => {
  it('compares onnxruntime-web wasm against onnxruntime-node and records both runtimes', async () => {
    const report = join(dir, 'wasm');
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--cand-provider', 'wasm', '--cand-threads', '1', '--report', report, ...RUN]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.builds.reference.backend).toMatchObject({ providers: ['cpu'], runtime: 'onnxruntime-node', runtimeVersion: doc.versions.onnxruntime });
    expect(doc.builds.candidate.backend).toMatchObject({ providers: ['wasm'], runtime: 'onnxruntime-web', runtimeVersion: WEB_VERSION, wasmThreads: 1, simd: true });
    expect(doc.versions.onnxruntimeWeb).toBe(WEB_VERSION);
    // Different kernels (wasm SIMD vs MLAS): close, but not the same bits — a wasm run
    // silently served by onnxruntime-node would be bit-identical here.
    const tf = doc.steps[0].teacherForced.noisePred;
    expect(tf.maxAbs).toBeGreaterThan(0);
    expect(tf.relL2).toBeLessThan(1e-4);
    expect(doc.components.textEncoder.relL2).toBeLessThan(1e-5);
  });

  it('refuses a provider list that mixes onnxruntime builds (exit 2)', async () => {
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--cand-provider', 'wasm,cpu', '--report', join(dir, 'mixed'), ...RUN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cand-provider: 'wasm,cpu' mixes providers of different ONNX Runtime builds/);
  });
});

describe('memoryHint', () => {
  it('explains a wasm out-of-memory failure by the 4 GiB limit, and nothing else', () => {
    const source = { kind: 'bytes' as const, bytes: new Uint8Array(3 * 2 ** 20) };
    expect(memoryHint("Can't create a session. ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc", source)).toMatch(/limited to 4 GiB per instance.*0\.00 GiB/);
    expect(memoryHint('Load model failed: invalid protobuf', source)).toBe('');
  });
});

describe('localize --cand-provider wasm', () => {
  it('compares the text encoder node by node between onnxruntime-node and onnxruntime-web', async () => {
    const trace = join(dir, 'trace');
    const g = await cli(['generate', '--model', model, '--trace', trace, '--out', join(dir, 'g.png'), ...RUN.slice(0, 5), '1', ...RUN.slice(6)]);
    expect(g.code, g.stderr).toBe(0);
    const report = join(dir, 'localize');
    // relL2 1e-9: tighter than the two runtimes agree, so the first value where their kernels differ is named.
    const r = await cli(['localize', '--reference', model, '--candidate', model, '--component', 'text_encoder', '--trace', trace, '--cand-provider', 'wasm', '--threshold', 'relL2=1e-9', '--report', report]);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    const metrics = doc.rows.map((row: { metrics: { relL2: number; maxAbs: number } | null }) => row.metrics).filter(Boolean);
    expect(metrics.length).toBeGreaterThan(10);
    expect(metrics.some((m: { maxAbs: number }) => m.maxAbs > 0)).toBe(true);
    expect(Math.max(...metrics.map((m: { relL2: number }) => m.relL2))).toBeLessThan(1e-4);
  });
});

describe('a suite with a wasm candidate and calibrated thresholds', () => {
  const thresholds = join(dir, 'thresholds.json');
  const suiteFile = (name: string, candidate: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'reference:',
        '  model: builtin:tiny',
        'candidate:',
        '  model: builtin:tiny',
        '  provider: wasm',
        candidate,
        `thresholds: ${thresholds}`,
        'defaults: { prompt: a teapot, steps: 3, height: 64, width: 64 }',
        'cases:',
        '  - name: teapot-seed2',
        '    seed: 2',
      ].join('\n'),
    );
    return loadSuite(file);
  };

  beforeAll(async () => {
    // The floor of the onnxruntime-node reference under harmless changes (opt levels, threads).
    const r = await cli(['calibrate', '--model', model, '--out', thresholds, ...RUN.slice(0, -1), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('the fp32 model on wasm passes the thresholds calibrated on onnxruntime-node', async () => {
    const suite = suiteFile('wasm-fp32', '');
    const [res] = await runSuite(suite, { cases: suite.cases, reportsDir: join(dir, 'reports'), golden: false, goldenDir: join(dir, 'golden') });
    expect(res.error).toBeFalsy();
    expect(res.report!).toPassGates();
  });

  it('the int8-dynamic variant on wasm fails them', async () => {
    const suite = suiteFile('wasm-int8', '  variant: { kind: int8-dynamic }');
    const [res] = await runSuite(suite, { cases: suite.cases, reportsDir: join(dir, 'reports'), golden: false, goldenDir: join(dir, 'golden') });
    expect(res.error).toBeFalsy();
    expect(res.report!).not.toPassGates();
    expect(res.report!.gates.filter((g) => !g.passed).map((g) => g.id)).toContain('step[0].teacherForced.noisePred.relL2');
  });
});
