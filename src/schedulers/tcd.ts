/**
 * TCDScheduler of diffusers 0.27.2 (trajectory consistency distillation):
 * like LCM it predicts x0 and the noise, moves to the intermediate timestep
 * s = floor((1 − eta)·t_prev), and with eta > 0 re-noises to t_prev with
 * noise from the generator (every step but the last). Timesteps are int64,
 * from the `original_inference_steps` skipping schedule.
 *
 * eta ("gamma") is an argument of `step`, not config: StableDiffusionPipeline
 * passes its own `eta`, 0.0 by default — deterministic. Options.eta sets it.
 * diffusers' TCD step reads neither thresholding nor clip_sample (nor
 * timestep_spacing, steps_offset, timestep_scaling): those keys are accepted
 * and, as in diffusers, have no effect.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { ConfigReader, readBetaConfig } from './config.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { consistencyTimesteps } from './consistency-timesteps.ts';
import { type KPrediction, K_PREDICTIONS } from './k-common.ts';
import { StepIndex } from './step-index.ts';
import { addNoiseByAlpha } from './add-noise.ts';

/** diffusers' TCD step reads neither thresholding nor clip_sample, timestep_spacing, steps_offset or timestep_scaling: accepted, no effect, as there. */
export const TCD_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  beta_start: { default: 0.00085 },
  beta_end: { default: 0.012 },
  beta_schedule: { default: 'scaled_linear', implemented: ['linear', 'scaled_linear', 'squaredcos_cap_v2'] },
  original_inference_steps: { default: 50 },
  clip_sample: { default: false },
  clip_sample_range: { default: 1.0 },
  set_alpha_to_one: { default: true },
  steps_offset: { default: 0 },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  ...THRESHOLDING_OPTIONS,
  timestep_spacing: { default: 'leading', implemented: SPACINGS },
  timestep_scaling: { default: 10.0 },
  rescale_betas_zero_snr: { default: false },
};

export interface TcdOptions {
  /** The pipeline's eta (diffusers' StableDiffusionPipeline default 0.0), in [0, 1]. */
  eta?: number;
}

export class TCDScheduler implements Scheduler {
  static readonly className = 'TCDScheduler';
  static readonly options = TCD_OPTIONS;
  readonly name = 'tcd';
  readonly timestepDtype = 'int64';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  readonly eta: number;
  timesteps: readonly number[] = [];

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly prediction: KPrediction;
  private readonly originalSteps: number;
  private readonly index = new StepIndex();

  constructor(fileConfig: SchedulerConfig, options: TcdOptions = {}) {
    this.config = configure(TCDScheduler.className, TCDScheduler.options, fileConfig);
    const r = new ConfigReader(TCDScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.prediction = r.oneOf('prediction_type', K_PREDICTIONS);
    this.originalSteps = r.int('original_inference_steps', 1);
    if (this.originalSteps > this.T) throw r.fail('original_inference_steps', `must not exceed num_train_timesteps (${this.T})`);
    this.eta = options.eta ?? 0;
    if (!(this.eta >= 0 && this.eta <= 1)) throw new UsageError(`TCDScheduler: eta must be in [0, 1], got ${this.eta}`);
  }

  get generatorUse(): GeneratorUse {
    return this.eta > 0 ? 'all-but-last' : 'none';
  }

  setTimesteps(n: number): void {
    this.timesteps = consistencyTimesteps(n, this.T, this.originalSteps, TCDScheduler.className, 'TCD');
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseByAlpha(this.alphasCumprod, original, noise, timestep, TCDScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, TCDScheduler.className);
    const i = this.index.current(this.timesteps, timestep, TCDScheduler.className);
    const last = i === this.timesteps.length - 1;
    const renoise = this.eta > 0 && !last;
    if (renoise && !generator) throw new UsageError(`${TCDScheduler.className}.step needs the generator: with eta > 0 it draws noise on every step but the last`);
    const prevT = last ? 0 : this.timesteps[i + 1];
    // (1 - eta) * prev_timestep: an int64 tensor times a Python float gives float32.
    const s = Math.floor(f(f(1 - this.eta) * prevT));
    const a = this.alphasCumprod[timestep];
    const ap = this.alphasCumprod[prevT];
    const as = this.alphasCumprod[s];
    const sa = sqrtF(a);
    const sb = sqrtF(f(1 - a));
    const sas = sqrtF(as);
    const sbs = sqrtF(f(1 - as));
    const m = modelOutput.data;
    const x = sample.data;
    const noised = x.map((v, k) => {
      let x0: number;
      let eps: number;
      if (this.prediction === 'epsilon') {
        x0 = f(f(v - f(sb * m[k])) / sa);
        eps = m[k];
      } else if (this.prediction === 'sample') {
        x0 = m[k];
        eps = f(f(v - f(sa * x0)) / sb);
      } else {
        x0 = f(f(sa * v) - f(sb * m[k]));
        eps = f(f(sa * m[k]) + f(sb * v));
      }
      return f(f(sas * x0) + f(sbs * eps));
    });
    this.index.advance();
    if (!renoise) return mapElements(sample, (k) => noised[k]);
    const noise = generator!.randn(modelOutput.dims).data;
    const ratio = f(ap / as);
    const c1 = sqrtF(ratio);
    const c2 = sqrtF(f(1 - ratio));
    return mapElements(sample, (k) => f(f(c1 * noised[k]) + f(c2 * noise[k])));
  }
}
