/**
 * HeunDiscreteScheduler of diffusers 0.27.2 (Karras et al. 2022, algorithm 2,
 * s_churn = 0): every step but the last is an Euler step followed by a
 * correction, each needing its own U-Net call, so `timesteps` holds every
 * timestep after the first twice and a pipeline looping over it makes
 * 2·steps − 1 calls. Which half a call is in (`state_in_first_order`) is
 * state: the scheduler must see every call in order.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { BETA_SCHEDULES, ConfigReader, TIMESTEP_SPACINGS, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { checkSameShape, f, mapElements } from './ops.ts';
import { eulerInitNoiseSigma, scaleBySigma } from './euler.ts';
import { kSchedule } from './k-schedule.ts';
import { trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';
import { addNoiseBySigma } from './add-noise.ts';
import { type KPrediction, K_PREDICTIONS, kPredictX0, readKarrasRange } from './k-common.ts';

export const HEUN_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  beta_start: { default: 0.00085 },
  beta_end: { default: 0.012 },
  beta_schedule: { default: 'linear', implemented: ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'exp'] },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  use_karras_sigmas: { default: false },
  clip_sample: { default: false },
  clip_sample_range: { default: 1.0 },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
};

/** What the first half of a Heun step leaves for the second. */
interface FirstOrderState {
  derivative: Float32Array;
  dt: number;
  sample: Tensor<'float32'>;
}

export class HeunDiscreteScheduler implements Scheduler {
  static readonly className = 'HeunDiscreteScheduler';
  static readonly options = HEUN_OPTIONS;
  readonly name = 'heun';
  /** diffusers' `order`: two U-Net calls per step, so image-to-image cuts the schedule at t_start · 2. */
  readonly callsPerStep = 2;
  readonly generatorUse: GeneratorUse = 'none';
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  timestepDtype: 'float32' | 'float64' = 'float32';
  /** 2·steps float32 sigmas: s0, s1, s1, …, s(n−1), s(n−1), 0. */
  sigmas: Float32Array;

  private readonly alphasCumprod: Float32Array;
  private readonly prediction: KPrediction;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karras: boolean;
  private readonly karrasRange: { sigmaMin: number | null; sigmaMax: number | null };
  private readonly clipRange: number | null;
  private readonly index = new StepIndex();
  private pending: FirstOrderState | null = null;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(HeunDiscreteScheduler.className, HeunDiscreteScheduler.options, fileConfig);
    const r = new ConfigReader(HeunDiscreteScheduler.className, this.config);
    this.alphasCumprod = makeAlphasCumprod(readBetaConfig(r, [...BETA_SCHEDULES, 'exp']));
    this.prediction = r.oneOf('prediction_type', K_PREDICTIONS);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.karras = r.bool('use_karras_sigmas');
    this.karrasRange = readKarrasRange(HeunDiscreteScheduler.className, fileConfig);
    this.clipRange = r.bool('clip_sample') ? f(r.number('clip_sample_range')) : null;
    // Before set_timesteps diffusers holds the schedule for num_train_timesteps; init_noise_sigma reads it.
    this.sigmas = Float32Array.from([...trainingSigmas(this.alphasCumprod).reverse(), 0]);
  }

  /** True between a call's Euler half and its correction (diffusers: `not state_in_first_order`). */
  get inSecondOrder(): boolean {
    return this.pending !== null;
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.sigmas, this.spacing);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.alphasCumprod.length, HeunDiscreteScheduler.className);
    const s = kSchedule({
      spacing: this.spacing, steps: n, stepsOffset: this.stepsOffset, alphasCumprod: this.alphasCumprod,
      karras: this.karras, ...this.karrasRange, roundKarrasTimesteps: false,
    });
    const sig = Float32Array.from([...s.sigmas, 0]);
    this.sigmas = Float32Array.from([sig[0], ...Array.from(sig.subarray(1, n)).flatMap((v) => [v, v]), 0]);
    const t = s.timesteps.map(s.timestepDtype === 'float32' ? f : (v: number) => v);
    this.timesteps = [t[0], ...t.slice(1).flatMap((v) => [v, v])];
    this.timestepDtype = s.timestepDtype;
    this.pending = null;
    this.index.reset();
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  /** x + noise·σ at the begin index (img2img: t_start · order, a first-order call), as diffusers' add_noise. */
  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.forAddNoise(this.timesteps, timestep, HeunDiscreteScheduler.className);
    return addNoiseBySigma(this.sigmas[i], original, noise, HeunDiscreteScheduler.className);
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.current(this.timesteps, timestep, HeunDiscreteScheduler.className);
    return scaleBySigma(sample, this.sigmas[i]);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, HeunDiscreteScheduler.className);
    const i = this.index.current(this.timesteps, timestep, HeunDiscreteScheduler.className);
    const first = this.pending === null;
    const sigma = first ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaNext = first ? this.sigmas[i + 1] : this.sigmas[i];
    // The prediction is read at sigma (first half) or at sigma_next (correction).
    const sigmaInput = first ? sigma : sigmaNext;
    const m = modelOutput.data;
    const s = sample.data;
    const derivative = new Float32Array(s.length);
    for (let k = 0; k < s.length; k++) {
      const x0 = kPredictX0(this.prediction, m[k], s[k], sigmaInput, this.clipRange);
      derivative[k] = f(f(s[k] - x0) / (first ? sigma : sigmaNext));
    }
    let out: Tensor<'float32'>;
    if (first) {
      const dt = f(sigmaNext - sigma);
      this.pending = { derivative, dt, sample };
      out = mapElements(sample, (k) => f(s[k] + f(derivative[k] * dt)));
    } else {
      const { derivative: prev, dt, sample: start } = this.pending!;
      this.pending = null;
      out = mapElements(start, (k) => f(start.data[k] + f(f(f(prev[k] + derivative[k]) / 2) * dt)));
    }
    this.index.advance();
    return out;
  }
}
