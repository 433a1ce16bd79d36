/**
 * KDPM2AncestralDiscreteScheduler of diffusers 0.27.2 ("DPM2 a"): DPM2 to
 * sigma_down, then fresh noise of scale sigma_up. Two U-Net calls per step
 * (timesteps t0, ti0, t1, ti1, …); `step` draws a noise tensor from the
 * generator on *both* calls and adds only the second — the first draw is
 * discarded, modelled so the generator stream stays where diffusers leaves it.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { ConfigReader, TIMESTEP_SPACINGS, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { eulerInitNoiseSigma, scaleBySigma } from './euler.ts';
import { interleaveSigmas, kSchedule } from './k-schedule.ts';
import { type KPrediction, kPredictX0, readKarrasRange } from './k-common.ts';
import { torchLogLerpExp, torchSigmaToT } from './k-interpol.ts';
import { KDPM2_OPTIONS, KDPM2_PREDICTIONS } from './kdpm2.ts';
import { trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';

export const KDPM2_ANCESTRAL_OPTIONS: OptionTable = KDPM2_OPTIONS;

export class KDPM2AncestralDiscreteScheduler implements Scheduler {
  static readonly className = 'KDPM2AncestralDiscreteScheduler';
  static readonly options = KDPM2_ANCESTRAL_OPTIONS;
  readonly name = 'kdpm2-a';
  readonly generatorUse: GeneratorUse = 'every-step';
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  timestepDtype: 'float32' | 'float64' = 'float32';
  sigmas: Float32Array;
  sigmasInterpol: Float32Array = new Float32Array(0);
  sigmasUp: Float32Array = new Float32Array(0);
  sigmasDown: Float32Array = new Float32Array(0);

  private readonly alphasCumprod: Float32Array;
  private readonly prediction: KPrediction;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karras: boolean;
  private readonly karrasRange: { sigmaMin: number | null; sigmaMax: number | null };
  private readonly index = new StepIndex();
  private started: Tensor<'float32'> | null = null;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(KDPM2AncestralDiscreteScheduler.className, KDPM2AncestralDiscreteScheduler.options, fileConfig);
    const r = new ConfigReader(KDPM2AncestralDiscreteScheduler.className, this.config);
    this.alphasCumprod = makeAlphasCumprod(readBetaConfig(r));
    this.prediction = r.oneOf('prediction_type', KDPM2_PREDICTIONS);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
    this.karras = r.bool('use_karras_sigmas');
    this.karrasRange = readKarrasRange(KDPM2AncestralDiscreteScheduler.className, fileConfig);
    this.sigmas = interleaveSigmas(Float32Array.from([...trainingSigmas(this.alphasCumprod).reverse(), 0]));
  }

  get inSecondOrder(): boolean {
    return this.started !== null;
  }

  get initNoiseSigma(): number {
    return eulerInitNoiseSigma(this.sigmas, this.spacing);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.alphasCumprod.length, KDPM2AncestralDiscreteScheduler.className);
    const s = kSchedule({
      spacing: this.spacing, steps: n, stepsOffset: this.stepsOffset, alphasCumprod: this.alphasCumprod,
      karras: this.karras, ...this.karrasRange, roundKarrasTimesteps: true,
    });
    const sig = Float32Array.from([...s.sigmas, 0]);
    const next = Float32Array.from([...sig.subarray(1), 0]);
    const up = sig.map((v, i) => {
      const n2 = f(next[i] * next[i]);
      const v2 = f(v * v);
      return sqrtF(f(f(n2 * f(v2 - n2)) / v2));
    });
    const down = sig.map((_, i) => (i === sig.length - 1 ? 0 : sqrtF(f(f(next[i] * next[i]) - f(up[i] * up[i])))));
    const interpol = sig.map((v, i) => (i >= sig.length - 2 ? 0 : torchLogLerpExp(v, down[i])));
    this.sigmas = interleaveSigmas(sig);
    this.sigmasInterpol = interleaveSigmas(interpol);
    this.sigmasUp = interleaveSigmas(up);
    this.sigmasDown = interleaveSigmas(down);
    const cast = s.timestepDtype === 'float32' ? f : (v: number) => v;
    const t = s.timesteps.map(cast);
    const ti = Array.from(interpol, (v) => cast(torchSigmaToT(v, s.logSigmas)));
    const out = [t[0]];
    for (let k = 1; k < n; k++) out.push(ti[k - 1], t[k]);
    this.timesteps = out;
    this.timestepDtype = s.timestepDtype;
    this.started = null;
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    const i = this.index.current(this.timesteps, timestep, KDPM2AncestralDiscreteScheduler.className);
    return scaleBySigma(sample, this.started === null ? this.sigmas[i] : this.sigmasInterpol[i - 1]);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, KDPM2AncestralDiscreteScheduler.className);
    if (!generator) throw new UsageError(`${KDPM2AncestralDiscreteScheduler.className}.step needs the generator: it draws noise on every call`);
    const i = this.index.current(this.timesteps, timestep, KDPM2AncestralDiscreteScheduler.className);
    const first = this.started === null;
    // In the first half only sigma and sigma_interpol at i are read; the second reads everything at i − 1.
    const j = first ? i : i - 1;
    const sigma = this.sigmas[j];
    const sigmaInterpol = this.sigmasInterpol[j];
    const noise = generator.randn(modelOutput.dims).data;
    const sigmaInput = first ? sigma : sigmaInterpol;
    const m = modelOutput.data;
    const s = sample.data;
    let out: Tensor<'float32'>;
    if (first) {
      const dt = f(sigmaInterpol - sigma);
      this.started = sample;
      out = mapElements(sample, (k) => {
        const derivative = f(f(s[k] - kPredictX0(this.prediction, m[k], s[k], sigmaInput)) / sigma);
        return f(s[k] + f(derivative * dt));
      });
    } else {
      const base = this.started!.data;
      this.started = null;
      const dt = f(this.sigmasDown[j] - sigma);
      const up = this.sigmasUp[j];
      out = mapElements(sample, (k) => {
        const derivative = f(f(s[k] - kPredictX0(this.prediction, m[k], s[k], sigmaInput)) / sigmaInterpol);
        return f(f(base[k] + f(derivative * dt)) + f(noise[k] * up));
      });
    }
    this.index.advance();
    return out;
  }
}
