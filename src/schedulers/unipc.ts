/**
 * UniPCMultistepScheduler of diffusers 0.27.2 (UniPC, arXiv 2302.04867): a
 * multistep predictor (UniP) and, from the second step on, a corrector (UniC)
 * that re-uses the new model output, both with the B(h) of "bh1" (B = h) or
 * "bh2" (B = e^h − 1), orders 1–3, on the data (predict_x0) or the noise
 * prediction. The coefficients come from a small float32 linear solve, as
 * diffusers takes them from torch.linalg.solve. Timesteps are int64.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements } from './ops.ts';
import { type NoiseLevel, combine, noiseLevel, sigmaMin, solverSigmas, solverTimesteps } from './solver-common.ts';
import { type KarrasRange, addNoiseAtSigma, karrasRangeOf } from './solver-common.ts';
import { solveF32 } from './linalg.ts';
import { StepIndex } from './step-index.ts';
import { thresholdSample } from './thresholding.ts';

export const UNIPC_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  solver_order: { default: 2, implemented: [1, 2, 3], why: 'solver orders above 3 are not implemented' },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  ...THRESHOLDING_OPTIONS,
  predict_x0: { default: true },
  // diffusers registers midpoint, heun and logrho as bh2.
  solver_type: { default: 'bh2', implemented: ['bh1', 'bh2', 'midpoint', 'heun', 'logrho'] },
  lower_order_final: { default: true },
  disable_corrector: { default: [] },
  solver_p: { default: null, implemented: [null], why: 'solver_p is another scheduler object, which a config file cannot hold' },
  use_karras_sigmas: { default: false },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
};

/** torch.expm1 on a float32 0-d tensor. */
function expm1F(x: number): number {
  return f(Math.expm1(x));
}

/** The B(h) coefficients of one UniP/UniC update: R (order×order), b, h·φ1(h) and B(h), float32. */
interface BhCoefficients {
  R: number[][];
  b: number[];
  hPhi1: number;
  Bh: number;
}

export class UniPCMultistepScheduler implements Scheduler {
  static readonly className = 'UniPCMultistepScheduler';
  static readonly options = UNIPC_OPTIONS;
  readonly name = 'unipc';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse = 'none';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly order: number;
  private readonly prediction: PredictionType;
  private readonly threshold: { ratio: number; maxValue: number } | null;
  private readonly predictX0: boolean;
  private readonly bh1: boolean;
  private readonly lowerOrderFinal: boolean;
  private readonly disableCorrector: readonly number[];
  private readonly karras: boolean;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karrasRange: KarrasRange;
  private readonly index = new StepIndex();
  private modelOutputs: (Float32Array | null)[] = [];
  private lowerOrderNums = 0;
  private lastSample: Float32Array | null = null;
  private thisOrder = 0;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(UniPCMultistepScheduler.className, UNIPC_OPTIONS, fileConfig);
    this.karrasRange = karrasRangeOf(UniPCMultistepScheduler.className, fileConfig);
    const r = new ConfigReader(UniPCMultistepScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.order = r.int('solver_order', 1);
    if (this.order > 3) throw r.fail('solver_order', 'must be 1, 2 or 3');
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.threshold = r.bool('thresholding')
      ? { ratio: r.number('dynamic_thresholding_ratio'), maxValue: r.number('sample_max_value') }
      : null;
    this.predictX0 = r.bool('predict_x0');
    this.bh1 = r.oneOf('solver_type', ['bh1', 'bh2', 'midpoint', 'heun', 'logrho']) === 'bh1';
    // diffusers registers the mapped solver_type (register_to_config).
    Object.assign(this.config, { solver_type: this.bh1 ? 'bh1' : 'bh2' });
    this.lowerOrderFinal = r.bool('lower_order_final');
    const disable = this.config.disable_corrector;
    if (!Array.isArray(disable) || !disable.every((v) => Number.isInteger(v))) throw r.fail('disable_corrector', 'must be a list of step indices');
    this.disableCorrector = disable as number[];
    this.karras = r.bool('use_karras_sigmas');
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, UniPCMultistepScheduler.className);
    const spaced = solverTimesteps(this.spacing, this.T, n, this.stepsOffset);
    const { sigmas, timesteps } = solverSigmas(this.alphasCumprod, spaced, n, this.karras ? 'karras' : 'interp', this.karrasRange);
    // diffusers 0.27.2's UniPC repeats the last Karras sigma, and otherwise ends at sigma_min (never 0).
    sigmas.push(this.karras ? sigmas[sigmas.length - 1] : sigmaMin(this.alphasCumprod));
    this.sigmas = Float32Array.from(sigmas);
    this.timesteps = timesteps;
    this.modelOutputs = new Array<Float32Array | null>(this.order).fill(null);
    this.lowerOrderNums = 0;
    this.lastSample = null;
    this.thisOrder = 0;
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseAtSigma(UniPCMultistepScheduler.className, this.timesteps, this.sigmas, original, noise, timestep);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, UniPCMultistepScheduler.className);
    const i = this.index.current(this.timesteps, timestep, UniPCMultistepScheduler.className);
    const useCorrector = i > 0 && !this.disableCorrector.includes(i - 1) && this.lastSample !== null;
    const converted = this.convertModelOutput(modelOutput.data, sample.data, this.sigmas[i], sample.dims[0]);
    let x = sample.data;
    if (useCorrector) x = this.correct(i, converted, this.lastSample!, this.thisOrder);
    this.modelOutputs = [...this.modelOutputs.slice(1), converted];
    const order = this.lowerOrderFinal ? Math.min(this.order, this.timesteps.length - i) : this.order;
    this.thisOrder = Math.min(order, this.lowerOrderNums + 1);
    if (this.thisOrder < 1) throw new UsageError(`${UniPCMultistepScheduler.className}: step ${i} is past the schedule`);
    this.lastSample = x;
    const prev = this.predict(i, x, this.thisOrder);
    if (this.lowerOrderNums < this.order) this.lowerOrderNums++;
    this.index.advance();
    return mapElements(sample, (k) => prev[k]);
  }

  /** x0 (predict_x0, thresholded if asked) or epsilon, from the model output. */
  private convertModelOutput(m: Float32Array, s: Float32Array, sigma: number, batch: number): Float32Array {
    const { alpha, sigma: sigmaT } = noiseLevel(sigma);
    if (this.predictX0) {
      let x0: Float32Array;
      if (this.prediction === 'epsilon') x0 = s.map((v, k) => f(f(v - f(sigmaT * m[k])) / alpha));
      else if (this.prediction === 'sample') x0 = m.slice();
      else x0 = s.map((v, k) => f(f(alpha * v) - f(sigmaT * m[k])));
      return this.threshold ? thresholdSample(x0, batch, this.threshold.ratio, this.threshold.maxValue) : x0;
    }
    if (this.prediction === 'epsilon') return m.slice();
    if (this.prediction === 'sample') return s.map((v, k) => f(f(v - f(alpha * m[k])) / sigmaT));
    return m.map((v, k) => f(f(alpha * v) + f(sigmaT * s[k])));
  }

  /** rks and D1s = (m_i − m0)/r_k of the previous outputs, for an update from level s0 (h = λ_t − λ_s0). */
  private differences(s0: NoiseLevel, h: number, m0: Float32Array, order: number, sigmaIndexOf: (k: number) => number) {
    const rks: number[] = [];
    const D1s: Float32Array[] = [];
    const outputs = this.modelOutputs;
    for (let k = 1; k < order; k++) {
      const mi = outputs[outputs.length - 1 - k]!;
      const rk = f(f(noiseLevel(this.sigmas[sigmaIndexOf(k)]).lambda - s0.lambda) / h);
      rks.push(rk);
      D1s.push(mi.map((v, j) => f(f(v - m0[j]) / rk)));
    }
    rks.push(1);
    return { rks, D1s };
  }

  private coefficients(h: number, rks: readonly number[], order: number): BhCoefficients {
    const hh = this.predictX0 ? f(-h) : h;
    const hPhi1 = expm1F(hh);
    let hPhiK = f(f(hPhi1 / hh) - 1);
    let factorial = 1;
    const Bh = this.bh1 ? hh : expm1F(hh);
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((r) => (i === 1 ? 1 : i === 2 ? r : f(r * r))));
      b.push(f(f(hPhiK * factorial) / Bh));
      factorial *= i + 1;
      hPhiK = f(f(hPhiK / hh) - f(1 / factorial));
    }
    return { R, b, hPhi1, Bh };
  }

  /** The first part of both updates: (σt/σs0)·x − αt·hφ1·m0, or its noise-prediction form. */
  private base(t: NoiseLevel, s0: NoiseLevel, x: Float32Array, m0: Float32Array, hPhi1: number): Float32Array {
    if (this.predictX0) return combine([[f(t.sigma / s0.sigma), x], [f(t.alpha * hPhi1), m0, -1]], x.length);
    return combine([[f(t.alpha / s0.alpha), x], [f(t.sigma * hPhi1), m0, -1]], x.length);
  }

  /** Σ_k rhos[k]·D1s[k] (torch.einsum "k,bkc...->bc..."). */
  private static weighted(rhos: readonly number[], D1s: readonly Float32Array[], j: number): number {
    let acc = f(rhos[0] * D1s[0][j]);
    for (let k = 1; k < D1s.length; k++) acc = f(acc + f(rhos[k] * D1s[k][j]));
    return acc;
  }

  /** UniP: the predictor from step i's sample to step i+1. */
  private predict(i: number, x: Float32Array, order: number): Float32Array {
    const m0 = this.modelOutputs[this.modelOutputs.length - 1]!;
    const t = noiseLevel(this.sigmas[i + 1]);
    const s0 = noiseLevel(this.sigmas[i]);
    const h = f(t.lambda - s0.lambda);
    const { rks, D1s } = this.differences(s0, h, m0, order, (k) => i - k);
    const { R, b, hPhi1, Bh } = this.coefficients(h, rks, order);
    const base = this.base(t, s0, x, m0, hPhi1);
    if (D1s.length === 0) return base;
    const rhos = order === 2 ? [0.5] : solveF32(R.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1));
    const c = f((this.predictX0 ? t.alpha : t.sigma) * Bh);
    return base.map((v, j) => f(v - f(c * UniPCMultistepScheduler.weighted(rhos, D1s, j))));
  }

  /**
   * UniC: step i's sample, rebuilt from the previous one (lastSample) with
   * step i's own model output (diffusers takes this_sample but overwrites it).
   */
  private correct(i: number, modelT: Float32Array, last: Float32Array, order: number): Float32Array {
    const m0 = this.modelOutputs[this.modelOutputs.length - 1]!;
    const t = noiseLevel(this.sigmas[i]);
    const s0 = noiseLevel(this.sigmas[i - 1]);
    const h = f(t.lambda - s0.lambda);
    const { rks, D1s } = this.differences(s0, h, m0, order, (k) => i - (k + 1));
    const { R, b, hPhi1, Bh } = this.coefficients(h, rks, order);
    const rhos = order === 1 ? [0.5] : solveF32(R, b);
    const base = this.base(t, s0, last, m0, hPhi1);
    const c = f((this.predictX0 ? t.alpha : t.sigma) * Bh);
    const rhoT = rhos[rhos.length - 1];
    return base.map((v, j) => {
      const dt = f(rhoT * f(modelT[j] - m0[j]));
      const corr = D1s.length ? f(UniPCMultistepScheduler.weighted(rhos, D1s, j) + dt) : dt;
      return f(v - f(c * corr));
    });
  }
}
