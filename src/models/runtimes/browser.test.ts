/**
 * onnxruntime-web inside headless Chromium (Debian's, as CI installs it) as a
 * build, compared step by step against onnxruntime-node; and the binary
 * format tensors cross the page boundary in.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../forge/cache.ts';
import { makeTensor } from '../../tensor/tensor.ts';
import { runCli as cli } from '../../testing/cli.ts';
import { ortWebVersion } from '../../version.ts';
import { chromiumPath } from './browser-host.ts';
import { decodeTensors, encodeTensors } from './browser-wire.ts';

const RUN = ['--prompt', 'a teapot', '--seed', '2', '--steps', '2', '--height', '64', '--width', '64', '--quiet'];
const dir = mkdtempSync(join(tmpdir(), 'lockstep-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('browser wire format', () => {
  it('round-trips every dtype, scalars and odd byte lengths bit for bit', () => {
    const tensors = {
      f32: makeTensor('float32', [2, 3], Float32Array.from([1.5, -0, NaN, Infinity, 1e-40, 3])),
      f16: makeTensor('float16', [3], Uint16Array.from([0x3c00, 0x7c00, 0x0001])),
      ids: makeTensor('int64', [1, 2], BigInt64Array.from([49406n, -(2n ** 62n)])),
      t: makeTensor('int32', [], Int32Array.from([999])),
      u8: makeTensor('uint8', [5], Uint8Array.from([1, 2, 3, 4, 255])),
      f64: makeTensor('float64', [1], Float64Array.from([Math.PI])),
    };
    const back = decodeTensors(encodeTensors(tensors), true);
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name].dtype).toBe(t.dtype);
      expect(back[name].dims).toEqual(t.dims);
      expect(new Uint8Array(back[name].data.buffer)).toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  });
});

describe.skipIf(!existsSync(chromiumPath()))('--cand-provider browser-wasm (onnxruntime-web in headless Chromium)', () => {
  it('runs the tiny model in Chromium, compared step by step against onnxruntime-node', async () => {
    const model = await ensureTinyModel(0);
    const report = join(dir, 'browser-wasm');
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--cand-provider', 'browser-wasm', '--report', report, ...RUN]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.builds.candidate.backend).toMatchObject({ providers: ['browser-wasm'], runtime: 'browser', runtimeVersion: ortWebVersion(), simd: true });
    expect(doc.builds.candidate.backend.browser).toMatch(/^Chromium \d+\./);
    expect(doc.builds.reference.backend.runtime).toBe('onnxruntime-node');
    expect(doc.complete).toBe(true);
    expect(doc.steps.length).toBeGreaterThanOrEqual(2);
    for (const step of doc.steps) {
      // wasm kernels, not MLAS: close to the reference, and not bit-identical to it.
      expect(step.teacherForced.noisePred.maxAbs).toBeGreaterThan(0);
      expect(step.teacherForced.noisePred.relL2).toBeLessThan(1e-4);
      expect(step.freeRunning.latents.relL2).toBeLessThan(1e-4);
    }
    expect(doc.components.vaeDecoder.relL2).toBeLessThan(1e-5);
  });

  it('browser-webgpu either runs or says plainly why the browser cannot offer it (exit 2, one line)', async () => {
    const model = await ensureTinyModel(0);
    const r = await cli(['compare', '--reference', model, '--candidate', model, '--cand-provider', 'browser-webgpu', '--report', join(dir, 'webgpu'), ...RUN.slice(0, 5), '1', ...RUN.slice(6)]);
    if (r.code === 0) return; // a machine with a real GPU adapter: the comparison ran
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/execution provider 'browser-webgpu' is not available in Chromium \d+[^:]*: WebGPU (has no GPU adapter|is not available)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
