/**
 * EulerAncestralDiscreteScheduler of diffusers 0.27.2: an Euler step down to
 * sigma_down, then fresh noise of scale sigma_up drawn from the generator
 * every step. Timesteps are float32.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount } from './config.ts';
import { BETA_OPTIONS, SPACINGS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { interpOnIndex } from './numpy-like.ts';
import { floatTimesteps, trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';
import { addNoiseBySigma } from './add-noise.ts';
import { eulerInitNoiseSigma, predictX0, scaleBySigma, sigmaAlphasCumprod } from './euler.ts';

export const EULER_ANCESTRAL_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  prediction_type: { default: 'epsilon', implemented: ['epsilon', 'v_prediction'], why: 'diffusers 0.27.2 raises NotImplementedError for "sample" in step' },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
  rescale_betas_zero_snr: { default: false },
};

export class EulerAncestralDiscreteScheduler implements Scheduler {
  static readonly className = 'EulerAncestralDiscreteScheduler';
  static readonly options = EULER_ANCESTRAL_OPTIONS;
  readonly name = 'euler-a';
  readonly timestepDtype = 'float32';
  readonly generatorUse: GeneratorUse = 'every-step';
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  sigmas: Float32Array;

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly index = new StepIndex();

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(EulerAncestralDiscreteScheduler.className, EULER_ANCESTRAL_OPTIONS, fileConfig);
    const r = new ConfigReader(EulerAncestralDiscreteScheduler.className, this.config);
    this.alphasCumprod = sigmaAlphasCumprod(r);
    this.T = this.alphasCumprod.length;
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.sigmas = Float32Array.from([...trainingSigmas(this.alphasCumprod).reverse(), 0]);
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.sigmas, this.spacing);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, EulerAncestralDiscreteScheduler.className);
    const timesteps = floatTimesteps(this.spacing, this.T, n, this.stepsOffset);
    const sigmas = interpOnIndex(timesteps, trainingSigmas(this.alphasCumprod));
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps;
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.current(this.timesteps, timestep, EulerAncestralDiscreteScheduler.className);
    return scaleBySigma(sample, this.sigmas[i]);
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.forAddNoise(this.timesteps, timestep, EulerAncestralDiscreteScheduler.className);
    return addNoiseBySigma(this.sigmas[i], original, noise, EulerAncestralDiscreteScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, EulerAncestralDiscreteScheduler.className);
    if (!generator) throw new UsageError(`${EulerAncestralDiscreteScheduler.className}.step needs the generator: it draws noise every step`);
    const i = this.index.current(this.timesteps, timestep, EulerAncestralDiscreteScheduler.className);
    const sigmaFrom = this.sigmas[i];
    const sigmaTo = this.sigmas[i + 1];
    const to2 = f(sigmaTo * sigmaTo);
    const from2 = f(sigmaFrom * sigmaFrom);
    const sigmaUp = sqrtF(f(f(to2 * f(from2 - to2)) / from2));
    const sigmaDown = sqrtF(f(to2 - f(sigmaUp * sigmaUp)));
    const dt = f(sigmaDown - sigmaFrom);
    const m = modelOutput.data;
    const s = sample.data;
    const noise = generator.randn(modelOutput.dims).data;
    const out = mapElements(sample, (k) => {
      const x0 = predictX0(this.prediction, m[k], s[k], sigmaFrom);
      const derivative = f(f(s[k] - x0) / sigmaFrom);
      const prev = f(s[k] + f(derivative * dt));
      return f(prev + f(noise[k] * sigmaUp));
    });
    this.index.advance();
    return out;
  }
}
