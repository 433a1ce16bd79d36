/**
 * DDIMScheduler of diffusers 0.27.2 (deterministic, eta = 0 as the SD
 * pipelines call it). Timesteps are int64.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { leadingTimesteps, linspaceTimesteps, trailingTimesteps } from './spacing.ts';
import { roundHalfEven } from './numpy-like.ts';
import { indexForTimestep } from './step-index.ts';
import { thresholdSample } from './thresholding.ts';
import { addNoiseByAlpha } from './add-noise.ts';

export const DDIM_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  clip_sample: { default: true },
  set_alpha_to_one: { default: true },
  steps_offset: { default: 0 },
  prediction_type: { default: 'epsilon', implemented: ['epsilon', 'v_prediction', 'sample'] },
  ...THRESHOLDING_OPTIONS,
  clip_sample_range: { default: 1.0 },
  timestep_spacing: { default: 'leading', implemented: SPACINGS },
  rescale_betas_zero_snr: { default: false },
};

/** Spacing as DDIM, PNDM and LCM share it: integer timesteps, descending. */
export function integerTimesteps(spacing: TimestepSpacing, T: number, n: number, stepsOffset: number): number[] {
  if (spacing === 'leading') return leadingTimesteps(T, n, stepsOffset);
  if (spacing === 'trailing') return trailingTimesteps(T, n);
  return linspaceTimesteps(T, n).map(roundHalfEven);
}

export class DDIMScheduler implements Scheduler {
  static readonly className = 'DDIMScheduler';
  static readonly options = DDIM_OPTIONS;
  readonly name = 'ddim';
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
  private readonly clipRange: number | null;
  private readonly threshold: { ratio: number; maxValue: number } | null;
  private numInferenceSteps = 0;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(DDIMScheduler.className, DDIM_OPTIONS, fileConfig);
    const r = new ConfigReader(DDIMScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.finalAlphaCumprod = r.bool('set_alpha_to_one') ? 1.0 : this.alphasCumprod[0];
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.clipRange = r.bool('clip_sample') ? f(r.number('clip_sample_range')) : null;
    this.threshold = r.bool('thresholding')
      ? { ratio: r.number('dynamic_thresholding_ratio'), maxValue: r.number('sample_max_value') }
      : null;
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, DDIMScheduler.className);
    this.numInferenceSteps = n;
    this.timesteps = integerTimesteps(this.spacing, this.T, n, this.stepsOffset);
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  /** DDPM-style add_noise: sqrt(ᾱ_t)·x + sqrt(1 − ᾱ_t)·noise. */
  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseByAlpha(this.alphasCumprod, original, noise, timestep, DDIMScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, DDIMScheduler.className);
    indexForTimestep(this.timesteps, timestep, DDIMScheduler.className);
    const prevTimestep = timestep - Math.floor(this.T / this.numInferenceSteps);
    const alphaProdT = this.alphasCumprod[timestep];
    const alphaProdPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep] : this.finalAlphaCumprod;
    const sqrtAlpha = sqrtF(alphaProdT);
    const sqrtBeta = sqrtF(f(1 - alphaProdT));
    const sqrtAlphaPrev = sqrtF(alphaProdPrev);
    // std_dev_t = eta * sqrt(variance) = 0, so the direction coefficient is sqrt(1 - alpha_prev).
    const dirCoeff = sqrtF(f(1 - alphaProdPrev));
    const m = modelOutput.data;
    const s = sample.data;
    const n = s.length;
    let x0: Float32Array = new Float32Array(n);
    const eps = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.prediction === 'epsilon') {
        x0[i] = f(f(s[i] - f(sqrtBeta * m[i])) / sqrtAlpha);
        eps[i] = m[i];
      } else if (this.prediction === 'sample') {
        x0[i] = m[i];
        eps[i] = f(f(s[i] - f(sqrtAlpha * x0[i])) / sqrtBeta);
      } else {
        x0[i] = f(f(sqrtAlpha * s[i]) - f(sqrtBeta * m[i]));
        eps[i] = f(f(sqrtAlpha * m[i]) + f(sqrtBeta * s[i]));
      }
    }
    // diffusers thresholds x0, or else clips it; eps stays as predicted (use_clipped_model_output is off).
    const clip = this.clipRange;
    if (this.threshold) x0 = thresholdSample(x0, sample.dims[0], this.threshold.ratio, this.threshold.maxValue);
    else if (clip !== null) x0 = x0.map((v) => Math.min(Math.max(v, -clip), clip));
    return mapElements(sample, (i) => f(f(sqrtAlphaPrev * x0[i]) + f(dirCoeff * eps[i])));
  }
}
