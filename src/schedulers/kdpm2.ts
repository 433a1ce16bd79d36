/**
 * KDPM2DiscreteScheduler of diffusers 0.27.2 (k-diffusion's DPM-Solver-2,
 * "DPM2"): each step goes to the log-midpoint sigma (sigma_interpol) with one
 * U-Net call, then the whole step with the derivative read there — a second
 * call at the midpoint's own timestep. `timesteps` interleaves the
 * midpoint timesteps: t0, ti1, t1, ti2, t2, …  (2·steps − 1 calls).
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { ConfigReader, TIMESTEP_SPACINGS, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { checkSameShape, f, mapElements } from './ops.ts';
import { eulerInitNoiseSigma, scaleBySigma } from './euler.ts';
import { interleaveSigmas, kSchedule } from './k-schedule.ts';
import { type KPrediction, kPredictX0, readKarrasRange } from './k-common.ts';
import { torchLogLerpExp, torchSigmaToT } from './k-interpol.ts';
import { trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';

export const KDPM2_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  beta_start: { default: 0.00085 },
  beta_end: { default: 0.012 },
  use_karras_sigmas: { default: false },
  prediction_type: { default: 'epsilon', implemented: ['epsilon', 'v_prediction'], why: 'diffusers 0.27.2 raises NotImplementedError for "sample" in step' },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
};

/** KDPM2 and its ancestral variant raise NotImplementedError for "sample" in step; refused up front. */
export const KDPM2_PREDICTIONS: readonly KPrediction[] = ['epsilon', 'v_prediction'];

export class KDPM2DiscreteScheduler implements Scheduler {
  static readonly className = 'KDPM2DiscreteScheduler';
  static readonly options = KDPM2_OPTIONS;
  readonly name = 'kdpm2';
  readonly generatorUse: GeneratorUse = 'none';
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  timestepDtype: 'float32' | 'float64' = 'float32';
  /** Per call (2·steps + 2): s0, s1, s1, …, 0, 0, 0. */
  sigmas: Float32Array;
  /** Log-midpoints laid out like `sigmas` (the first is NaN and never read). */
  sigmasInterpol: Float32Array = new Float32Array(0);

  private readonly alphasCumprod: Float32Array;
  private readonly prediction: KPrediction;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karras: boolean;
  private readonly karrasRange: { sigmaMin: number | null; sigmaMax: number | null };
  private readonly index = new StepIndex();
  /** The sample a step started from, held between its two calls (diffusers' `self.sample`). */
  private started: Tensor<'float32'> | null = null;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(KDPM2DiscreteScheduler.className, KDPM2DiscreteScheduler.options, fileConfig);
    const r = new ConfigReader(KDPM2DiscreteScheduler.className, this.config);
    this.alphasCumprod = makeAlphasCumprod(readBetaConfig(r));
    this.prediction = r.oneOf('prediction_type', KDPM2_PREDICTIONS);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.karras = r.bool('use_karras_sigmas');
    this.karrasRange = readKarrasRange(KDPM2DiscreteScheduler.className, fileConfig);
    this.sigmas = interleaveSigmas(Float32Array.from([...trainingSigmas(this.alphasCumprod).reverse(), 0]));
  }

  get inSecondOrder(): boolean {
    return this.started !== null;
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.sigmas, this.spacing);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.alphasCumprod.length, KDPM2DiscreteScheduler.className);
    const s = kSchedule({
      spacing: this.spacing, steps: n, stepsOffset: this.stepsOffset, alphasCumprod: this.alphasCumprod,
      karras: this.karras, ...this.karrasRange, roundKarrasTimesteps: true,
    });
    const sig = Float32Array.from([...s.sigmas, 0]);
    // log-lerp towards the previous sigma (roll(1): the first one's "previous" is the final 0, giving NaN).
    const interpol = sig.map((v, i) => torchLogLerpExp(v, sig[(i + sig.length - 1) % sig.length]));
    this.sigmas = interleaveSigmas(sig);
    this.sigmasInterpol = interleaveSigmas(interpol);
    const cast = s.timestepDtype === 'float32' ? f : (v: number) => v;
    const t = s.timesteps.map(cast);
    const ti = Array.from(interpol, (v) => cast(torchSigmaToT(v, s.logSigmas)));
    const out = [t[0]];
    for (let k = 1; k < n; k++) out.push(ti[k], t[k]);
    this.timesteps = out;
    this.timestepDtype = s.timestepDtype;
    this.started = null;
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.current(this.timesteps, timestep, KDPM2DiscreteScheduler.className);
    return scaleBySigma(sample, this.started === null ? this.sigmas[i] : this.sigmasInterpol[i]);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, KDPM2DiscreteScheduler.className);
    const i = this.index.current(this.timesteps, timestep, KDPM2DiscreteScheduler.className);
    const first = this.started === null;
    const sigma = first ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaInterpol = first ? this.sigmasInterpol[i + 1] : this.sigmasInterpol[i];
    const sigmaNext = first ? this.sigmas[i + 1] : this.sigmas[i];
    const sigmaInput = first ? sigma : sigmaInterpol;
    const dt = first ? f(sigmaInterpol - sigma) : f(sigmaNext - sigma);
    const base = first ? sample : this.started!;
    this.started = first ? sample : null;
    const m = modelOutput.data;
    const s = sample.data;
    const out = mapElements(sample, (k) => {
      const x0 = kPredictX0(this.prediction, m[k], s[k], sigmaInput);
      const derivative = f(f(s[k] - x0) / sigmaInput);
      return f(base.data[k] + f(derivative * dt));
    });
    this.index.advance();
    return out;
  }
}
