/**
 * EulerDiscreteScheduler of diffusers 0.27.2 (k-diffusion's Euler, with
 * s_churn = 0 as the pipelines call it). Timesteps are float32. Each step
 * draws one noise tensor from the generator and, with s_churn = 0, never uses
 * it — here the stream is moved past that draw, so it stays where diffusers leaves it.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { BETA_OPTIONS, SPACINGS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { interpOnIndex } from './numpy-like.ts';
import { floatTimesteps, karrasSigmas, logSigmas, sigmaToT, trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';
import { addNoiseBySigma } from './add-noise.ts';
import { torchLinspaceF32 } from './betas.ts';
import { numpyLogF32 } from './numpy-log.ts';
import { sleefExpf, sleefLogf } from './torch-math.ts';

export const EULER_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  prediction_type: { default: 'epsilon', implemented: ['epsilon', 'v_prediction', 'sample', 'original_sample'] },
  interpolation_type: { default: 'linear', implemented: ['linear', 'log_linear'] },
  use_karras_sigmas: { default: false },
  sigma_min: { default: null },
  sigma_max: { default: null },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  timestep_type: { default: 'discrete', implemented: ['discrete', 'continuous'] },
  steps_offset: { default: 0 },
  rescale_betas_zero_snr: { default: false },
};

/** Training alphas_cumprod; zero-SNR rescaling pins the last one at 2^-24 so its sigma stays finite. */
export function sigmaAlphasCumprod(r: ConfigReader): Float32Array {
  const beta = readBetaConfig(r);
  const ac = makeAlphasCumprod(beta);
  if (beta.rescale_betas_zero_snr) ac[ac.length - 1] = 2 ** -24;
  return ac;
}

/** init_noise_sigma of the Euler family: max sigma, or sqrt(max² + 1) for "leading" spacing (float32). */
export function eulerInitNoiseSigma(sigmas: Float32Array, spacing: TimestepSpacing): number {
  const max = sigmas.reduce((m, s) => (s > m ? s : m), -Infinity);
  return spacing === 'linspace' || spacing === 'trailing' ? max : sqrtF(f(f(max * max) + 1));
}

/** sample / sqrt(sigma² + 1), float32. */
export function scaleBySigma(sample: Tensor<'float32'>, sigma: number): Tensor<'float32'> {
  const denom = sqrtF(f(f(sigma * sigma) + 1));
  return mapElements(sample, (i) => f(sample.data[i] / denom));
}

/** x0 from the model output at noise level sigma (epsilon, v-prediction or the sample itself), float32 as diffusers. */
export function predictX0(prediction: PredictionType, m: number, s: number, sigma: number): number {
  if (prediction === 'epsilon') return f(s - f(sigma * m));
  if (prediction === 'sample') return m;
  const c1 = f(f(-sigma) / sqrtF(f(f(sigma * sigma) + 1)));
  const c2 = f(f(sigma * sigma) + 1);
  return f(f(m * c1) + f(s / c2));
}

export class EulerDiscreteScheduler implements Scheduler {
  static readonly className = 'EulerDiscreteScheduler';
  static readonly options = EULER_OPTIONS;
  readonly name = 'euler';
  readonly timestepDtype = 'float32';
  readonly generatorUse: GeneratorUse = 'every-step';
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  /** n + 1 float32 sigmas, the last 0. */
  sigmas: Float32Array;

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  /** Training sigmas, ascending (never modified). */
  private readonly trainSigmas: Float32Array;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karras: boolean;
  private readonly sigmaMin: number | null;
  private readonly sigmaMax: number | null;
  private readonly continuous: boolean;
  private readonly logLinear: boolean;
  private readonly index = new StepIndex();

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(EulerDiscreteScheduler.className, EULER_OPTIONS, fileConfig);
    const r = new ConfigReader(EulerDiscreteScheduler.className, this.config);
    this.alphasCumprod = sigmaAlphasCumprod(r);
    this.T = this.alphasCumprod.length;
    // Euler's step treats "original_sample" as "sample".
    this.prediction = this.config.prediction_type === 'original_sample' ? 'sample' : r.oneOf('prediction_type', PREDICTION_TYPES);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.karras = r.bool('use_karras_sigmas');
    this.sigmaMin = r.nullableNumber('sigma_min');
    this.sigmaMax = r.nullableNumber('sigma_max');
    this.continuous = r.oneOf('timestep_type', ['discrete', 'continuous']) === 'continuous';
    this.logLinear = r.oneOf('interpolation_type', ['linear', 'log_linear']) === 'log_linear';
    this.trainSigmas = trainingSigmas(this.alphasCumprod);
    this.sigmas = new Float32Array(this.T + 1);
    this.sigmas.set(this.trainSigmas.slice().reverse());
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.sigmas, this.spacing);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, EulerDiscreteScheduler.className);
    let timesteps: number[] = floatTimesteps(this.spacing, this.T, n, this.stepsOffset);
    const train = this.trainSigmas;
    // log_linear: torch.linspace(log σ_max, log σ_min, n + 1).exp() — one sigma more than timesteps, so
    // the last step ends at σ_min and the appended 0 is never reached, as in diffusers.
    let sigmas = this.logLinear
      ? Array.from(torchLinspaceF32(numpyLogF32(train[this.T - 1]), numpyLogF32(train[0]), n + 1), sleefExpf)
      : interpOnIndex(timesteps, train);
    if (this.karras) {
      const logS = logSigmas(train);
      sigmas = karrasSigmas(this.sigmaMin ?? sigmas[sigmas.length - 1], this.sigmaMax ?? sigmas[0], n);
      timesteps = sigmas.map((s) => sigmaToT(s, logS));
    }
    const sig32 = sigmas.map(f);
    // diffusers applies the continuous v-prediction timesteps with Karras sigmas too (one per sigma).
    this.timesteps =
      this.continuous && this.prediction === 'v_prediction'
        ? sig32.map((s) => f(0.25 * sleefLogf(s)))
        : timesteps.map(f);
    this.sigmas = Float32Array.from([...sig32, 0]);
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.current(this.timesteps, timestep, EulerDiscreteScheduler.className);
    return scaleBySigma(sample, this.sigmas[i]);
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.forAddNoise(this.timesteps, timestep, EulerDiscreteScheduler.className);
    return addNoiseBySigma(this.sigmas[i], original, noise, EulerDiscreteScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, EulerDiscreteScheduler.className);
    const i = this.index.current(this.timesteps, timestep, EulerDiscreteScheduler.className);
    // diffusers draws eps every step; with s_churn = 0 (gamma = 0) it is unused: only the stream moves on.
    generator?.skipRandn(modelOutput.dims);
    const sigma = this.sigmas[i];
    const dt = f(this.sigmas[i + 1] - sigma);
    const m = modelOutput.data;
    const s = sample.data;
    const out = mapElements(sample, (k) => {
      const x0 = predictX0(this.prediction, m[k], s[k], sigma);
      const derivative = f(f(s[k] - x0) / sigma);
      return f(s[k] + f(derivative * dt));
    });
    this.index.advance();
    return out;
  }
}
