/**
 * LMSDiscreteScheduler of diffusers 0.27.2 (linear multistep, order 4 as
 * pipelines call it): the derivative of each step joins the last three, each
 * weighted by the integral of its Lagrange basis polynomial over the step's
 * sigma interval. diffusers integrates with scipy.integrate.quad on an
 * integrand evaluated in float32 torch arithmetic; lms-coefficients.ts
 * reproduces both.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { ConfigReader, TIMESTEP_SPACINGS, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { checkSameShape, f, mapElements } from './ops.ts';
import { eulerInitNoiseSigma, scaleBySigma } from './euler.ts';
import { kSchedule } from './k-schedule.ts';
import { type KPrediction, K_PREDICTIONS, kPredictX0 } from './k-common.ts';
import { lmsCoefficient } from './lms-coefficients.ts';
import { trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';
import { addNoiseBySigma } from './add-noise.ts';

export const LMS_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  use_karras_sigmas: { default: false },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
};

/** `order` of LMSDiscreteScheduler.step as pipelines call it (the default). */
export const LMS_ORDER = 4;

export class LMSDiscreteScheduler implements Scheduler {
  static readonly className = 'LMSDiscreteScheduler';
  static readonly options = LMS_OPTIONS;
  readonly name = 'lms';
  readonly generatorUse: GeneratorUse = 'none';
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  timestepDtype: 'float32' | 'float64' = 'float32';
  /** steps + 1 float32 sigmas, the last 0. */
  sigmas: Float32Array;

  private readonly alphasCumprod: Float32Array;
  private readonly prediction: KPrediction;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karras: boolean;
  private readonly index = new StepIndex();
  /** The latest derivatives, oldest first (at most LMS_ORDER). */
  private derivatives: Float32Array[] = [];

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(LMSDiscreteScheduler.className, LMSDiscreteScheduler.options, fileConfig);
    const r = new ConfigReader(LMSDiscreteScheduler.className, this.config);
    this.alphasCumprod = makeAlphasCumprod(readBetaConfig(r));
    this.prediction = r.oneOf('prediction_type', K_PREDICTIONS);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.karras = r.bool('use_karras_sigmas');
    this.sigmas = Float32Array.from([...trainingSigmas(this.alphasCumprod).reverse(), 0]);
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.sigmas, this.spacing);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.alphasCumprod.length, LMSDiscreteScheduler.className);
    // LMS's _convert_to_karras ignores sigma_min / sigma_max: always the schedule's own range.
    const s = kSchedule({
      spacing: this.spacing, steps: n, stepsOffset: this.stepsOffset, alphasCumprod: this.alphasCumprod,
      karras: this.karras, sigmaMin: null, sigmaMax: null, roundKarrasTimesteps: false,
    });
    this.sigmas = Float32Array.from([...s.sigmas, 0]);
    this.timesteps = s.timestepDtype === 'float32' ? s.timesteps.map(f) : s.timesteps;
    this.timestepDtype = s.timestepDtype;
    this.derivatives = [];
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.current(this.timesteps, timestep, LMSDiscreteScheduler.className);
    return scaleBySigma(sample, this.sigmas[i]);
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.forAddNoise(this.timesteps, timestep, LMSDiscreteScheduler.className);
    return addNoiseBySigma(this.sigmas[i], original, noise, LMSDiscreteScheduler.className);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, LMSDiscreteScheduler.className);
    const i = this.index.current(this.timesteps, timestep, LMSDiscreteScheduler.className);
    const sigma = this.sigmas[i];
    const m = modelOutput.data;
    const s = sample.data;
    const derivative = s.map((v, k) => f(f(v - kPredictX0(this.prediction, m[k], v, sigma)) / sigma));
    this.derivatives.push(derivative);
    if (this.derivatives.length > LMS_ORDER) this.derivatives.shift();
    const order = Math.min(i + 1, LMS_ORDER);
    // coeff * derivative multiplies a float32 tensor by a Python float: the coefficient is rounded to float32.
    const coeffs = Array.from({ length: order }, (_, c) => f(lmsCoefficient(this.sigmas, order, i, c)));
    const newestFirst = [...this.derivatives].reverse();
    // zip(lms_coeffs, reversed(derivatives)) stops at the shorter: a run started mid-schedule has fewer derivatives.
    const terms = Math.min(order, newestFirst.length);
    const out = mapElements(sample, (k) => {
      // Python's sum(): 0 + c0·d0, then + c1·d1, … in float32.
      let acc = f(coeffs[0] * newestFirst[0][k]);
      for (let c = 1; c < terms; c++) acc = f(acc + f(coeffs[c] * newestFirst[c][k]));
      return f(s[k] + acc);
    });
    this.index.advance();
    return out;
  }
}
