/**
 * DEISMultistepScheduler of diffusers 0.27.2 (DEIS, arXiv 2204.13902; the
 * "logrho" multistep form, orders 1–3): exponential-integrator steps on the
 * noise prediction, with coefficients integrated in log-rho. diffusers takes
 * the logs with numpy on float32 values, so they are float32 here too.
 * Timesteps are int64.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { makeAlphasCumprod } from './betas.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount, readBetaConfig } from './config.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements } from './ops.ts';
import { combine, noiseLevel, sigmaMin, solverSigmas, solverTimesteps } from './solver-common.ts';
import { type KarrasRange, addNoiseAtSigma, karrasRangeOf } from './solver-common.ts';
import { StepIndex } from './step-index.ts';
import { sleefExpf } from './torch-math.ts';
import { thresholdSample } from './thresholding.ts';
import { numpyLogF32 } from './numpy-log.ts';

export const DEIS_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  solver_order: { default: 2, implemented: [1, 2, 3], why: 'solver orders above 3 are not implemented' },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  ...THRESHOLDING_OPTIONS,
  // diffusers registers dpmsolver and dpmsolver++ as deis, and every solver_type as logrho.
  algorithm_type: { default: 'deis', implemented: ['deis', 'dpmsolver', 'dpmsolver++'] },
  solver_type: { default: 'logrho', implemented: ['logrho', 'midpoint', 'heun', 'bh1', 'bh2'] },
  lower_order_final: { default: true },
  use_karras_sigmas: { default: false },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
};

/** np.log of a float32 value (numpy's own float32 log, not a rounded Math.log). */
const logF = numpyLogF32;

/** The second-order ind_fn: t·(−log c + log t − 1) / (log b − log c). */
function ind2(t: number, b: number, c: number): number {
  const inner = f(f(f(-logF(c)) + logF(t)) - 1);
  return f(f(t * inner) / f(logF(b) - logF(c)));
}

/** The third-order ind_fn, term by term in diffusers' order. */
function ind3(t: number, b: number, c: number, d: number): number {
  const [lt, lb, lc, ld] = [logF(t), logF(b), logF(c), logF(d)];
  let num = f(lc * f(f(ld - lt) + 1));
  num = f(num - f(ld * lt));
  num = f(num + ld);
  num = f(num + f(lt * lt));
  num = f(num - f(2 * lt));
  num = f(num + 2);
  return f(f(t * num) / f(f(lb - lc) * f(lb - ld)));
}

export class DEISMultistepScheduler implements Scheduler {
  static readonly className = 'DEISMultistepScheduler';
  static readonly options = DEIS_OPTIONS;
  readonly name = 'deis';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse = 'none';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly order: number;
  private readonly prediction: PredictionType;
  private readonly threshold: { ratio: number; maxValue: number } | null;
  private readonly lowerOrderFinal: boolean;
  private readonly karras: boolean;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karrasRange: KarrasRange;
  private readonly index = new StepIndex();
  private modelOutputs: (Float32Array | null)[] = [];
  private lowerOrderNums = 0;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(DEISMultistepScheduler.className, DEIS_OPTIONS, fileConfig);
    this.karrasRange = karrasRangeOf(DEISMultistepScheduler.className, fileConfig);
    const r = new ConfigReader(DEISMultistepScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.order = r.int('solver_order', 1);
    if (this.order > 3) throw r.fail('solver_order', 'must be 1, 2 or 3');
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.threshold = r.bool('thresholding')
      ? { ratio: r.number('dynamic_thresholding_ratio'), maxValue: r.number('sample_max_value') }
      : null;
    r.oneOf('algorithm_type', ['deis', 'dpmsolver', 'dpmsolver++']);
    r.oneOf('solver_type', ['logrho', 'midpoint', 'heun', 'bh1', 'bh2']);
    // diffusers registers the mapped values (register_to_config): DEIS is always logrho DEIS.
    Object.assign(this.config, { algorithm_type: 'deis', solver_type: 'logrho' });
    this.lowerOrderFinal = r.bool('lower_order_final');
    this.karras = r.bool('use_karras_sigmas');
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, DEISMultistepScheduler.className);
    const spaced = solverTimesteps(this.spacing, this.T, n, this.stepsOffset);
    const { sigmas, timesteps } = solverSigmas(this.alphasCumprod, spaced, n, this.karras ? 'karras' : 'interp', this.karrasRange);
    // As UniPC in diffusers 0.27.2: the last Karras sigma repeated, otherwise sigma_min.
    sigmas.push(this.karras ? sigmas[sigmas.length - 1] : sigmaMin(this.alphasCumprod));
    this.sigmas = Float32Array.from(sigmas);
    this.timesteps = timesteps;
    this.modelOutputs = new Array<Float32Array | null>(this.order).fill(null);
    this.lowerOrderNums = 0;
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseAtSigma(DEISMultistepScheduler.className, this.timesteps, this.sigmas, original, noise, timestep);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, DEISMultistepScheduler.className);
    const i = this.index.current(this.timesteps, timestep, DEISMultistepScheduler.className);
    const n = this.timesteps.length;
    const lowerOrderFinal = i === n - 1 && this.lowerOrderFinal && n < 15;
    const lowerOrderSecond = i === n - 2 && this.lowerOrderFinal && n < 15;
    const eps = this.convertModelOutput(modelOutput.data, sample.data, this.sigmas[i], sample.dims[0]);
    this.modelOutputs = [...this.modelOutputs.slice(1), eps];
    let out: Float32Array;
    if (this.order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) out = this.firstOrder(i, eps, sample.data);
    else if (this.order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) out = this.higherOrder(i, sample.data, 2);
    else out = this.higherOrder(i, sample.data, 3);
    if (this.lowerOrderNums < this.order) this.lowerOrderNums++;
    this.index.advance();
    return mapElements(sample, (k) => out[k]);
  }

  /** DEIS works on epsilon, taken back from x0 (so thresholding applies): (x − α·x0)/σ. */
  private convertModelOutput(m: Float32Array, s: Float32Array, sigma: number, batch: number): Float32Array {
    const { alpha, sigma: sigmaT } = noiseLevel(sigma);
    let x0: Float32Array;
    if (this.prediction === 'epsilon') x0 = s.map((v, k) => f(f(v - f(sigmaT * m[k])) / alpha));
    else if (this.prediction === 'sample') x0 = m.slice();
    else x0 = s.map((v, k) => f(f(alpha * v) - f(sigmaT * m[k])));
    if (this.threshold) x0 = thresholdSample(x0, batch, this.threshold.ratio, this.threshold.maxValue);
    return s.map((v, k) => f(f(v - f(alpha * x0[k])) / sigmaT));
  }

  private firstOrder(i: number, eps: Float32Array, s: Float32Array): Float32Array {
    const t = noiseLevel(this.sigmas[i + 1]);
    const s0 = noiseLevel(this.sigmas[i]);
    const h = f(t.lambda - s0.lambda);
    return combine([[f(t.alpha / s0.alpha), s], [f(t.sigma * f(sleefExpf(h) - 1)), eps, -1]], s.length);
  }

  /** x_t = α_t·(x/α_s0 + Σ coef_k·m_k) with the log-rho coefficients of order 2 or 3. */
  private higherOrder(i: number, s: Float32Array, order: 2 | 3): Float32Array {
    const levels = Array.from({ length: order + 1 }, (_, j) => noiseLevel(this.sigmas[i + 1 - j]));
    const [t, s0] = levels;
    const [rt, r0, r1, r2] = levels.map((l) => f(l.sigma / l.alpha));
    const ms = this.modelOutputs.slice(-order).reverse() as Float32Array[];
    const coefs =
      order === 2
        ? [f(ind2(rt, r0, r1) - ind2(r0, r0, r1)), f(ind2(rt, r1, r0) - ind2(r0, r1, r0))]
        : [
            f(ind3(rt, r0, r1, r2) - ind3(r0, r0, r1, r2)),
            f(ind3(rt, r1, r2, r0) - ind3(r0, r1, r2, r0)),
            f(ind3(rt, r2, r0, r1) - ind3(r0, r2, r0, r1)),
          ];
    return s.map((v, k) => {
      let acc = f(v / s0.alpha);
      for (let j = 0; j < order; j++) acc = f(acc + f(coefs[j] * ms[j][k]));
      return f(t.alpha * acc);
    });
  }
}
