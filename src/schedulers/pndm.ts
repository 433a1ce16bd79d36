/**
 * PNDMScheduler of diffusers 0.27.2: Runge–Kutta warm-up steps (PRK) unless
 * `skip_prk_steps`, then linear multistep (PLMS). Timesteps are int64; with
 * skip_prk_steps the second timestep repeats (…, 801, 801, …) as in diffusers.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { BETA_OPTIONS, SPACINGS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { integerTimesteps } from './ddim.ts';
import { addNoiseByAlpha } from './add-noise.ts';

export const PNDM_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  skip_prk_steps: { default: false },
  set_alpha_to_one: { default: false },
  // diffusers' PNDM itself raises for "sample".
  prediction_type: { default: 'epsilon', implemented: ['epsilon', 'v_prediction'] },
  timestep_spacing: { default: 'leading', implemented: SPACINGS },
  steps_offset: { default: 0 },
};

const PNDM_ORDER = 4;

/** A model output kept between steps. */
type Ets = Float32Array;

export class PNDMScheduler implements Scheduler {
  static readonly className = 'PNDMScheduler';
  static readonly options = PNDM_OPTIONS;
  readonly name = 'pndm';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse = 'none';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly finalAlphaCumprod: number;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly skipPrk: boolean;
  private numInferenceSteps = 0;
  private prkTimesteps: number[] = [];
  // Mutable state of the multistep method, reset by setTimesteps.
  private ets: Ets[] = [];
  private counter = 0;
  private curSample: Float32Array | null = null;
  private curModelOutput: Float32Array | null = null;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(PNDMScheduler.className, PNDM_OPTIONS, fileConfig);
    const r = new ConfigReader(PNDMScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.finalAlphaCumprod = r.bool('set_alpha_to_one') ? 1.0 : this.alphasCumprod[0];
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.skipPrk = r.bool('skip_prk_steps');
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, PNDMScheduler.className);
    this.numInferenceSteps = n;
    const asc = integerTimesteps(this.spacing, this.T, n, this.stepsOffset).reverse();
    let plms: number[];
    if (this.skipPrk) {
      this.prkTimesteps = [];
      plms = [...asc.slice(0, -1), ...asc.slice(-2, -1), ...asc.slice(-1)].reverse();
    } else {
      const half = Math.floor(Math.floor(this.T / n) / 2);
      const pairs = asc.slice(-PNDM_ORDER).flatMap((t) => [t, t + half]);
      this.prkTimesteps = pairs.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1).reverse();
      plms = asc.slice(0, -3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...plms];
    this.ets = [];
    this.counter = 0;
    this.curSample = null;
    this.curModelOutput = null;
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  /**
   * DDPM-style add_noise (image-to-image). PNDM's `order` is 1 in diffusers, so get_timesteps cuts the
   * schedule (with skip_prk_steps, the repeated timestep included) at int(steps · strength) from the end,
   * and step() counts its own calls from there, as diffusers' counter does.
   */
  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseByAlpha(this.alphasCumprod, original, noise, timestep, PNDMScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, PNDMScheduler.className);
    const prk = this.counter < this.prkTimesteps.length && !this.skipPrk;
    const out = prk ? this.stepPrk(modelOutput.data, timestep, sample.data) : this.stepPlms(modelOutput.data, timestep, sample.data);
    this.counter++;
    return mapElements(sample, (i) => out[i]);
  }

  private get stepRatio(): number {
    return Math.floor(this.T / this.numInferenceSteps);
  }

  /** Fourth-order Runge–Kutta, four model calls per step. */
  private stepPrk(m: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(this.stepRatio / 2);
    const prevTimestep = timestep - diffToPrev;
    const t = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    const phase = this.counter % 4;
    let modelOutput: Float32Array = m;
    const sixth = f(1 / 6);
    const third = f(1 / 3);
    if (phase === 0) {
      this.curModelOutput = m.map((v) => f(sixth * v));
      this.ets.push(m);
      this.curSample = sample;
    } else if (phase === 1 || phase === 2) {
      const cur = this.curModelOutput!;
      this.curModelOutput = cur.map((c, i) => f(c + f(third * m[i])));
    } else {
      const cur = this.curModelOutput!;
      modelOutput = cur.map((c, i) => f(c + f(sixth * m[i])));
      this.curModelOutput = null;
    }
    return this.prevSample(this.curSample ?? sample, t, prevTimestep, modelOutput);
  }

  /** Linear multistep; the first two calls form a second-order warm-up (Heun-like). */
  private stepPlms(m: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    let prevTimestep = timestep - this.stepRatio;
    let t = timestep;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(m);
    } else {
      prevTimestep = timestep;
      t = timestep + this.stepRatio;
    }
    const e = this.ets;
    const n = e.length;
    let x = sample;
    let out: Float32Array;
    if (n === 1 && this.counter === 0) {
      out = m;
      this.curSample = sample;
    } else if (n === 1 && this.counter === 1) {
      out = m.map((v, i) => f(f(v + e[0][i]) / 2));
      x = this.curSample!;
      this.curSample = null;
    } else if (n === 2) {
      out = e[1].map((v, i) => f(f(f(3 * v) - e[0][i]) / 2));
    } else if (n === 3) {
      out = e[2].map((v, i) => f(f(f(f(23 * v) - f(16 * e[1][i])) + f(5 * e[0][i])) / 12));
    } else {
      const k = f(1 / 24);
      out = e[3].map((v, i) => f(k * f(f(f(f(55 * v) - f(59 * e[2][i])) + f(37 * e[1][i])) - f(9 * e[0][i]))));
    }
    return this.prevSample(x, t, prevTimestep, out);
  }

  /** Formula (9) of the PNDM paper: x_t → x_{t-δ}. */
  private prevSample(sample: Float32Array, t: number, prevT: number, modelOutput: Float32Array): Float32Array {
    const a = this.alphasCumprod[t];
    const ap = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
    const b = f(1 - a);
    const bp = f(1 - ap);
    let m = modelOutput;
    if (this.prediction === 'v_prediction') {
      const sa = sqrtF(a);
      const sb = sqrtF(b);
      m = m.map((v, i) => f(f(sa * v) + f(sb * sample[i])));
    }
    const sampleCoeff = sqrtF(f(ap / a));
    const denom = f(f(a * sqrtF(bp)) + sqrtF(f(f(a * b) * ap)));
    const diff = f(ap - a);
    return sample.map((s, i) => f(f(sampleCoeff * s) - f(f(diff * m[i]) / denom)));
  }
}
