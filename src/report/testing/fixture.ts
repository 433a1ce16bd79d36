/**
 * A synthetic report for tests: ten DDIM-like steps of small fp32-level
 * errors, with knobs to make one step diverge or go non-finite. Built in
 * code so report tests depend on nothing but the schema.
 */
import { defaultThresholds } from '../../gates/defaults.ts';
import { emptyStep, newReport, type MetricSet, type ReportDocument, type StepRecord } from '../schema.ts';

/** A metric set for a relative error `rel` on a tensor of `count` values. */
export function metricsFor(rel: number, count = 1024, nan = 0): MetricSet {
  return {
    cosine: nan > 0 ? NaN : 1 - (rel * rel) / 2,
    l1: rel * 0.8,
    maxAbs: rel * 4,
    maxAbsIndex: [0, 1, 2, 3],
    rmse: rel,
    relL2: nan > 0 ? NaN : rel,
    sqnr: rel === 0 ? Infinity : -20 * Math.log10(rel),
    nanCount: { reference: 0, candidate: nan },
    infCount: { reference: 0, candidate: 0 },
    count,
  };
}

export interface FixtureOptions {
  steps?: number;
  /** Teacher-forced noisePred error jumps to 5e-2 from this step on. */
  divergeAt?: number;
  /** The candidate's free-running noisePredText has NaNs from this step on. */
  nanAt?: number;
  complete?: boolean;
  guidance?: boolean;
}

export function syntheticReport(opts: FixtureOptions = {}): ReportDocument {
  const n = opts.steps ?? 10;
  const guidance = opts.guidance ?? true;
  const r = newReport({
    builds: {
      reference: {
        label: 'reference (ORT disabled)', kind: 'model', path: '/models/tiny-sd',
        backend: { providers: ['cpu'], graphOptimizationLevel: 'disabled', intraOpThreads: 1, interOpThreads: 1 },
        signatures: { unet: { inputs: [{ name: 'sample', dtype: 'float32', shape: ['batch', 4, 16, 16] }, { name: 'timestep', dtype: 'int64', shape: [1] }], outputs: [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 4, 16, 16] }] } },
      },
      candidate: {
        label: 'candidate (ORT all)', kind: 'model', path: '/models/tiny-sd',
        backend: { providers: ['cpu'], graphOptimizationLevel: 'all', intraOpThreads: 2, interOpThreads: 1 },
        signatures: { unet: { inputs: [{ name: 'sample', dtype: 'float32', shape: ['batch', 4, 16, 16] }, { name: 'timestep', dtype: 'int64', shape: [1] }], outputs: [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 4, 16, 16] }] } },
      },
    },
    pipeline: {
      prompt: 'a red cube on a table', negativePrompt: '', seed: 42, noise: 'torch-cpu', steps: n,
      scheduler: 'ddim', guidanceScale: guidance ? 7.5 : 1, height: 128, width: 128,
    },
    thresholds: defaultThresholds(),
    versions: { lockstep: '0.1.0', onnxruntime: '1.30.0' },
    createdAt: '2025-01-01T00:00:00.000Z',
  });
  r.components.textEncoder = metricsFor(2e-7, 77 * 32);
  for (let i = 0; i < n; i++) r.steps.push(stepFor(i, n, opts, guidance));
  const complete = opts.complete ?? true;
  if (complete) {
    r.final = { latents: metricsFor(3e-5), decoded: metricsFor(2e-5, 3 * 128 * 128), image: { psnr: 52.3, ssim: 0.9991 } };
    r.components.vaeDecoder = metricsFor(0, 3 * 128 * 128);
  } else {
    r.error = 'candidate U-Net: session run failed';
  }
  r.complete = complete;
  r.timing = { wallSeconds: 12.5, ortSeconds: 9.75 };
  return r;
}

function stepFor(i: number, n: number, opts: FixtureOptions, guidance: boolean): StepRecord {
  const s = emptyStep(i, Math.round(1000 - (i + 0.9) * (1000 / n)));
  const diverged = opts.divergeAt !== undefined && i >= opts.divergeAt;
  const tf = diverged ? 5e-2 : 1e-6 * (1 + i / 10);
  const fr = diverged ? 0.2 : 2e-6 * (i + 1);
  const nan = opts.nanAt !== undefined && i >= opts.nanAt ? 7 : 0;
  s.teacherForced.noisePred = metricsFor(tf);
  s.freeRunning.latentModelInput = metricsFor(fr * 0.9);
  s.freeRunning.noisePred = metricsFor(fr);
  s.freeRunning.latents = metricsFor(fr * 0.8);
  if (guidance) {
    s.teacherForced.noisePredUncond = metricsFor(tf);
    s.teacherForced.noisePredText = metricsFor(tf);
    s.teacherForced.guidanceDelta = metricsFor(tf * 8);
    s.freeRunning.noisePredUncond = metricsFor(fr);
    s.freeRunning.noisePredText = metricsFor(fr, 1024, nan);
    s.freeRunning.guidanceDelta = metricsFor(fr * 8);
  }
  return s;
}
