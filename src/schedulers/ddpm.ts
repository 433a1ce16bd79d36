/**
 * DDPMScheduler of diffusers 0.27.2 (Ho et al. 2020, ancestral sampling):
 * the posterior mean from x0, plus noise of the chosen variance drawn from
 * the generator on every step whose timestep is > 0. Timesteps are int64.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { ConfigReader, TIMESTEP_SPACINGS, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { integerTimesteps } from './ddim.ts';
import { type KPrediction, K_PREDICTIONS } from './k-common.ts';
import { sleefExpf, sleefLogf } from './torch-math.ts';
import { thresholdSample } from './thresholding.ts';
import { addNoiseByAlpha } from './add-noise.ts';
import { indexForTimestep } from './step-index.ts';

export const DDPM_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  beta_schedule: {
    default: 'linear',
    implemented: ['linear', 'scaled_linear', 'squaredcos_cap_v2'],
    why: '"sigmoid" goes through torch.sigmoid\'s vectorized exp, not modelled',
  },
  variance_type: {
    default: 'fixed_small',
    implemented: ['fixed_small', 'fixed_small_log', 'fixed_large'],
    why: 'fixed_large_log gives sqrt(log(beta)) = NaN in diffusers\' step; learned / learned_range need a U-Net that predicts its variance (2x channels)',
  },
  clip_sample: { default: true },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  ...THRESHOLDING_OPTIONS,
  clip_sample_range: { default: 1.0 },
  timestep_spacing: { default: 'leading', implemented: SPACINGS },
  steps_offset: { default: 0 },
  rescale_betas_zero_snr: { default: false },
};

type VarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large';

export class DDPMScheduler implements Scheduler {
  static readonly className = 'DDPMScheduler';
  static readonly options = DDPM_OPTIONS;
  readonly name = 'ddpm';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse = 'while-timestep-positive';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];

  private readonly T: number;
  readonly alphasCumprod: Float32Array;
  private readonly prediction: KPrediction;
  private readonly variance: VarianceType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly clipRange: number | null;
  private readonly threshold: { ratio: number; maxValue: number } | null;
  private numInferenceSteps = 0;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(DDPMScheduler.className, DDPMScheduler.options, fileConfig);
    const r = new ConfigReader(DDPMScheduler.className, this.config);
    // "sigmoid" betas go through torch.sigmoid's vectorized exp; not modelled.
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.prediction = r.oneOf('prediction_type', K_PREDICTIONS);
    this.variance = r.oneOf('variance_type', ['fixed_small', 'fixed_small_log', 'fixed_large'] as const);
    this.threshold = r.bool('thresholding')
      ? { ratio: r.number('dynamic_thresholding_ratio'), maxValue: r.number('sample_max_value') }
      : null;
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.clipRange = r.bool('clip_sample') ? f(r.number('clip_sample_range')) : null;
    // Before set_timesteps: every training timestep, and previous_timestep steps by T // T = 1.
    this.timesteps = Array.from({ length: this.T }, (_, i) => this.T - 1 - i);
    this.numInferenceSteps = this.T;
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, DDPMScheduler.className);
    this.numInferenceSteps = n;
    this.timesteps = integerTimesteps(this.spacing, this.T, n, this.stepsOffset);
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  /** DDPM has no set_begin_index in diffusers 0.27.2: add_noise reads the timestep itself. */
  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseByAlpha(this.alphasCumprod, original, noise, timestep, DDPMScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, DDPMScheduler.className);
    indexForTimestep(this.timesteps, timestep, DDPMScheduler.className);
    if (timestep > 0 && !generator) throw new UsageError(`${DDPMScheduler.className}.step needs the generator: it draws noise while the timestep is > 0`);
    // previous_timestep: t − T // steps for every spacing, as diffusers has it.
    const prevT = timestep - Math.floor(this.T / this.numInferenceSteps);
    const a = this.alphasCumprod[timestep];
    const ap = prevT >= 0 ? this.alphasCumprod[prevT] : 1.0;
    const betaProd = f(1 - a);
    const betaProdPrev = f(1 - ap);
    const currentAlpha = f(a / ap);
    const currentBeta = f(1 - currentAlpha);
    const sa = sqrtF(a);
    const sb = sqrtF(betaProd);
    const x0Coeff = f(f(sqrtF(ap) * currentBeta) / betaProd);
    const sampleCoeff = f(f(sqrtF(currentAlpha) * betaProdPrev) / betaProd);
    const m = modelOutput.data;
    const s = sample.data;
    const clip = this.clipRange;
    let x0: Float32Array = s.map((v, k) => (this.prediction === 'epsilon' ? f(f(v - f(sb * m[k])) / sa) : this.prediction === 'v_prediction' ? f(f(sa * v) - f(sb * m[k])) : m[k]));
    // thresholding, or else clip_sample.
    if (this.threshold) x0 = thresholdSample(x0, sample.dims[0], this.threshold.ratio, this.threshold.maxValue);
    else if (clip !== null) x0 = x0.map((v) => Math.min(Math.max(v, -clip), clip));
    const mean = s.map((v, k) => f(f(x0Coeff * x0[k]) + f(sampleCoeff * v)));
    if (!(timestep > 0)) return mapElements(sample, (k) => mean[k]);
    const noise = generator!.randn(modelOutput.dims).data;
    const scale = this.noiseScale(a, ap);
    return mapElements(sample, (k) => f(mean[k] + f(scale * noise[k])));
  }

  /** The factor on the drawn noise: sqrt(variance), or exp(0.5·log variance) for fixed_small_log. */
  private noiseScale(a: number, ap: number): number {
    const currentBeta = f(1 - f(a / ap));
    if (this.variance === 'fixed_large') return sqrtF(currentBeta);
    const variance = Math.max(f(f(f(1 - ap) / f(1 - a)) * currentBeta), f(1e-20));
    if (this.variance === 'fixed_small') return sqrtF(variance);
    return sleefExpf(f(0.5 * sleefLogf(variance)));
  }
}
