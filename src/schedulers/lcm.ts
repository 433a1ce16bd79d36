/**
 * LCMScheduler of diffusers 0.27.2 (latent consistency models): each step
 * predicts the denoised sample through the consistency boundary condition,
 * then re-noises it to the next timestep with noise drawn from the generator
 * (every step but the last). Timesteps are int64, picked from the
 * `original_inference_steps` skipping schedule.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ConfigReader, PREDICTION_TYPES, type PredictionType, readBetaConfig } from './config.ts';
import { BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { consistencyTimesteps } from './consistency-timesteps.ts';
import { StepIndex } from './step-index.ts';
import { thresholdSample } from './thresholding.ts';
import { addNoiseByAlpha } from './add-noise.ts';

export const LCM_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  beta_start: { default: 0.00085 },
  beta_end: { default: 0.012 },
  beta_schedule: { ...BETA_OPTIONS.beta_schedule, default: 'scaled_linear' },
  original_inference_steps: { default: 50 },
  clip_sample: { default: false },
  clip_sample_range: { default: 1.0 },
  set_alpha_to_one: { default: true },
  // diffusers 0.27.2's LCM set_timesteps reads neither steps_offset nor timestep_spacing.
  steps_offset: { default: 0 },
  prediction_type: { default: 'epsilon', implemented: ['epsilon', 'v_prediction', 'sample'] },
  ...THRESHOLDING_OPTIONS,
  timestep_spacing: { default: 'leading', implemented: SPACINGS },
  timestep_scaling: { default: 10.0 },
  rescale_betas_zero_snr: { default: false },
};

const SIGMA_DATA_SQ = 0.25; // sigma_data = 0.5

export class LCMScheduler implements Scheduler {
  static readonly className = 'LCMScheduler';
  static readonly options = LCM_OPTIONS;
  readonly name = 'lcm';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse = 'all-but-last';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  /** The denoised sample of the last step (the LCM pipeline decodes it). */
  lastDenoised: Tensor<'float32'> | null = null;

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly finalAlphaCumprod: number;
  private readonly prediction: PredictionType;
  private readonly originalSteps: number;
  private readonly timestepScaling: number;
  private readonly clipRange: number | null;
  private readonly threshold: { ratio: number; maxValue: number } | null;
  private readonly index = new StepIndex();

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(LCMScheduler.className, LCM_OPTIONS, fileConfig);
    const r = new ConfigReader(LCMScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.finalAlphaCumprod = r.bool('set_alpha_to_one') ? 1.0 : this.alphasCumprod[0];
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.originalSteps = r.int('original_inference_steps', 1);
    if (this.originalSteps > this.T) throw r.fail('original_inference_steps', `must not exceed num_train_timesteps (${this.T})`);
    this.timestepScaling = r.number('timestep_scaling');
    this.clipRange = r.bool('clip_sample') ? f(r.number('clip_sample_range')) : null;
    this.threshold = r.bool('thresholding')
      ? { ratio: r.number('dynamic_thresholding_ratio'), maxValue: r.number('sample_max_value') }
      : null;
  }

  setTimesteps(n: number): void {
    this.setTimestepsForStrength(n, 1);
  }

  setTimestepsForStrength(n: number, strength: number): void {
    this.timesteps = consistencyTimesteps(n, this.T, this.originalSteps, LCMScheduler.className, 'LCM', strength);
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseByAlpha(this.alphasCumprod, original, noise, timestep, LCMScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, LCMScheduler.className);
    const i = this.index.current(this.timesteps, timestep, LCMScheduler.className);
    const last = i === this.timesteps.length - 1;
    if (!last && !generator) throw new UsageError(`${LCMScheduler.className}.step needs the generator: it draws noise on every step but the last`);
    const prevT = last ? timestep : this.timesteps[i + 1];
    const a = this.alphasCumprod[timestep];
    const ap = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
    const sa = sqrtF(a);
    const sb = sqrtF(f(1 - a));
    const { cSkip, cOut } = this.boundaryScalings(timestep);
    const m = modelOutput.data;
    const s = sample.data;
    const clip = this.clipRange;
    let x0: Float32Array = s.map((v, k) =>
      this.prediction === 'epsilon' ? f(f(v - f(sb * m[k])) / sa) : this.prediction === 'sample' ? m[k] : f(f(sa * v) - f(sb * m[k])),
    );
    // thresholding, or else clip_sample.
    if (this.threshold) x0 = thresholdSample(x0, sample.dims[0], this.threshold.ratio, this.threshold.maxValue);
    else if (clip !== null) x0 = x0.map((v) => Math.min(Math.max(v, -clip), clip));
    const denoised = s.map((v, k) => f(f(cOut * x0[k]) + f(cSkip * v)));
    this.index.advance();
    this.lastDenoised = mapElements(sample, (k) => denoised[k]);
    if (last) return this.lastDenoised;
    const noise = generator!.randn(modelOutput.dims).data;
    const sap = sqrtF(ap);
    const sbp = sqrtF(f(1 - ap));
    return mapElements(sample, (k) => f(f(sap * denoised[k]) + f(sbp * noise[k])));
  }

  /** c_skip, c_out of the consistency parameterization, float32 from the int64 timestep tensor. */
  private boundaryScalings(timestep: number): { cSkip: number; cOut: number } {
    const scaled = f(f(timestep) * f(this.timestepScaling));
    const denom = f(f(scaled * scaled) + SIGMA_DATA_SQ);
    // `0.25 / tensor` is reciprocal(tensor) * 0.25 in torch.
    return { cSkip: f(f(1 / denom) * SIGMA_DATA_SQ), cOut: f(scaled / sqrtF(denom)) };
  }
}
