import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTinyModel } from '../forge/cache.ts';
import { defaultThresholds } from '../gates/index.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { generate } from '../pipeline/generate.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import type { MetricSet } from '../report/schema.ts';
import { addToUnetOutput, copyModelFolder, nanAtTimestep } from '../testing/model-surgery.ts';
import { TraceReader } from '../trace/reader.ts';
import { runLockstep } from './engine.ts';

const SETTINGS: PipelineSettings = {
  prompt: 'a red cube on a table',
  negativePrompt: 'blurry',
  seed: 7,
  noise: 'torch-cpu',
  steps: 4,
  scheduler: 'ddim',
  guidanceScale: 7.5,
  height: 64,
  width: 64,
};

let model: string;
let referenceTrace: TraceReader;

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `lockstep-${p}-`));
const build = (path: string) => ({ path, backend: DEFAULT_BACKEND });
const compare = (candidate: string, extra: Partial<Parameters<typeof runLockstep>[0]> = {}) =>
  runLockstep({ reference: build(model), candidate: build(candidate), settings: SETTINGS, thresholds: defaultThresholds(), reportDir: tmp('report'), ...extra });

beforeAll(async () => {
  model = await ensureTinyModel(0);
  const out = tmp('trace');
  await generate({ model, settings: SETTINGS, imageOut: join(out, 'image.png'), traceDir: join(out, 'trace') });
  referenceTrace = new TraceReader(join(out, 'trace'));
});

/** Metrics by the textbook formulas, two passes, independent of src/metrics. */
function independentMetrics(a: Float32Array, b: Float32Array) {
  let dot = 0, na = 0, nb = 0, l1 = 0, sq = 0, maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b[i] - a[i];
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l1 += Math.abs(d);
    sq += d * d;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return {
    cosine: dot / Math.sqrt(na * nb),
    l1: l1 / a.length,
    maxAbs,
    rmse: Math.sqrt(sq / a.length),
    relL2: Math.sqrt(sq) / Math.sqrt(na),
    sqnr: 10 * Math.log10(na / sq),
  };
}

function expectMetricsClose(actual: MetricSet, expected: ReturnType<typeof independentMetrics>) {
  for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
    expect(actual[key], key).toBeCloseTo(expected[key], key === 'sqnr' ? 6 : 12);
  }
}

describe('runLockstep', () => {
  it('a build compared with itself: cosine 1, every error 0, verdict pass', async () => {
    const report = await compare(model);
    expect(report.verdict).toBe('pass');
    expect(report.complete).toBe(true);
    expect(report.steps).toHaveLength(SETTINGS.steps);
    for (const step of report.steps) {
      for (const m of [...Object.values(step.teacherForced), ...Object.values(step.freeRunning)]) {
        expect(m).not.toBeNull();
        expect(m!.cosine).toBe(1);
        expect(m!.maxAbs).toBe(0);
        expect(m!.l1).toBe(0);
        expect(m!.sqnr).toBe(Infinity);
      }
    }
    expect(report.components.textEncoder!.maxAbs).toBe(0);
    expect(report.components.vaeDecoder!.maxAbs).toBe(0);
    expect(report.final.image!.psnr).toBe(Infinity);
    expect(report.final.image!.ssim).toBe(1);
  });

  it('a U-Net output shifted by a known delta gives the metrics an independent computation gives, at every step', async () => {
    const dims = [1, 4, 8, 8];
    const delta = Float32Array.from({ length: 256 }, (_, i) => 1e-3 * Math.sin(i * 0.7));
    const candidate = copyModelFolder(model);
    addToUnetOutput(candidate, delta, dims);
    const report = await compare(candidate);
    for (const step of report.steps) {
      const refUncond = referenceTrace.step(step.index, 'noise_pred_uncond')!.data as Float32Array;
      const shifted = Float32Array.from(refUncond, (v, i) => v + delta[i]);
      expectMetricsClose(step.teacherForced.noisePredUncond!, independentMetrics(refUncond, shifted));
      // Report 1.1 statistics: the median error and the element-wise check, from a plain sort.
      const m = step.teacherForced.noisePredUncond!;
      const d = Float64Array.from(refUncond, (v, i) => Math.abs(shifted[i] - v)).sort();
      expect(m.absErrQuantiles!.p50).toBeCloseTo((d[127] + d[128]) / 2, 12);
      expect(m.allclose!.mismatched).toBe(refUncond.filter((v, i) => Math.abs(shifted[i] - v) > 1e-5 + 1e-5 * Math.abs(v)).length);
      expect(m.worstChannel!.index).toBeGreaterThanOrEqual(0);
      // The same delta on both halves cancels in text − uncond, up to float32 rounding.
      expect(step.teacherForced.guidanceDelta!.cosine).toBeGreaterThan(0.9999);
    }
    // Step 0 inputs are identical, so free-running equals teacher-forced there; later the trajectories part.
    expect(report.steps[0].freeRunning.noisePredUncond).toEqual(report.steps[0].teacherForced.noisePredUncond);
    expect(report.steps[3].freeRunning.latents!.maxAbs).toBeGreaterThan(0);
  });

  it('sequential mode (one build loaded at a time) gives the same metrics as the side-by-side run', async () => {
    const candidate = copyModelFolder(model);
    addToUnetOutput(candidate, Float32Array.from({ length: 256 }, (_, i) => 1e-3 * Math.cos(i)), [1, 4, 8, 8]);
    const together = await compare(candidate);
    const sequential = await compare(candidate, { sequential: true });
    expect(sequential.steps).toEqual(together.steps);
    expect(sequential.final).toEqual(together.final);
    expect(sequential.components).toEqual(together.components);
    expect(sequential.builds.reference.kind).toBe('model');
    expect(sequential.builds.reference.backend).toEqual(together.builds.reference.backend);
    expect(sequential.findings.some((f) => /sequential mode/.test(f.message))).toBe(true);
  });

  it('a NaN injected at a known step is reported at that step', async () => {
    const timesteps = referenceTrace.timesteps();
    const candidate = copyModelFolder(model);
    nanAtTimestep(candidate, timesteps[2]);
    const report = await compare(candidate);
    expect(report.verdict).toBe('fail');
    expect(report.steps[1].teacherForced.noisePred!.nanCount.candidate).toBe(0);
    expect(report.steps[2].teacherForced.noisePred!.nanCount.candidate).toBeGreaterThan(0);
    const nonFinite = report.findings.find((f) => f.kind === 'first-nonfinite');
    expect(nonFinite?.step).toBe(2);
  });

  it('an interrupted run leaves a partial report.json marked incomplete', async () => {
    const controller = new AbortController();
    const reportDir = tmp('partial');
    const report = await compare(model, { reportDir, signal: controller.signal, onStep: (done) => done === 2 && controller.abort() });
    expect(report.complete).toBe(false);
    expect(report.verdict).toBe('fail');
    const onDisk = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    expect(onDisk.complete).toBe(false);
    expect(onDisk.steps).toHaveLength(2);
    expect(onDisk.error).toMatch(/interrupted/);
  });

  it('a recorded trace serves as reference (its inputs fed to a live candidate) and as candidate', async () => {
    const asReference = await runLockstep({
      reference: build(referenceTrace.dir), candidate: build(model), settings: SETTINGS, thresholds: defaultThresholds(), reportDir: tmp('tr'),
    });
    expect(asReference.verdict).toBe('pass');
    expect(asReference.steps[3].teacherForced.noisePred!.maxAbs).toBe(0);
    expect(asReference.builds.reference.kind).toBe('trace');

    const asCandidate = await runLockstep({
      reference: build(model), candidate: build(referenceTrace.dir), settings: SETTINGS, thresholds: defaultThresholds(), reportDir: tmp('tc'),
    });
    expect(asCandidate.steps[3].freeRunning.latents!.maxAbs).toBe(0);
    expect(asCandidate.steps[3].teacherForced.noisePred).toBeNull();
    expect(asCandidate.findings.some((f) => /recorded free-running trace/.test(f.message))).toBe(true);
  });

  it('a trace with fractional timesteps (LMS Karras) matches its live build: no timestep note, the scheduler timesteps in the report', async () => {
    const settings = { ...SETTINGS, scheduler: 'LMS Karras', steps: 3 };
    const out = tmp('frac');
    await generate({ model, settings, imageOut: join(out, 'image.png'), traceDir: join(out, 'trace') });
    const scheduled = new TraceReader(join(out, 'trace')).timesteps();
    expect(scheduled.some((t) => !Number.isInteger(t))).toBe(true);
    const r = await runLockstep({ reference: build(join(out, 'trace')), candidate: build(model), settings, thresholds: defaultThresholds(), reportDir: tmp('frac-report') });
    expect(r.verdict).toBe('pass');
    expect(r.steps.map((s) => s.timestep)).toEqual(scheduled);
    expect(r.findings.filter((f) => /timestep/.test(f.message))).toEqual([]);
  });
});
