/**
 * DPMSolverSinglestepScheduler of diffusers 0.27.2: DPM-Solver(++) in
 * singlestep form — steps run in groups of 1, 2 or 3 (the order list), each
 * group's updates starting from the sample at the group's start. As in
 * diffusers, set_timesteps turns lower_order_final on when the step count is
 * not a multiple of solver_order or the final sigma is zero. Timesteps are int64.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { ConfigReader, PREDICTION_TYPES, type PredictionType, checkStepCount } from './config.ts';
import { ALL_PREDICTIONS, BETA_OPTIONS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements } from './ops.ts';
import { makeAlphasCumprod } from './betas.ts';
import { readBetaConfig } from './config.ts';
import { type Term, clippedLastTimestep, combine, noiseLevel, sigmaMin, solverSigmas, solverTimesteps } from './solver-common.ts';
import { type KarrasRange, addNoiseAtSigma, karrasRangeOf } from './solver-common.ts';
import { StepIndex } from './step-index.ts';
import { sleefExpf } from './torch-math.ts';
import { thresholdSample } from './thresholding.ts';

export const DPM_SINGLESTEP_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  solver_order: { default: 2, implemented: [1, 2, 3], why: 'solver orders above 3 are not implemented' },
  prediction_type: { default: 'epsilon', implemented: ALL_PREDICTIONS },
  ...THRESHOLDING_OPTIONS,
  // diffusers registers deis as dpmsolver++, and logrho/bh1/bh2 as midpoint.
  algorithm_type: { default: 'dpmsolver++', implemented: ['dpmsolver++', 'dpmsolver', 'deis'] },
  solver_type: { default: 'midpoint', implemented: ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'] },
  lower_order_final: { default: false },
  use_karras_sigmas: { default: false },
  final_sigmas_type: { default: 'zero', implemented: ['zero', 'sigma_min'] },
  lambda_min_clipped: { default: -Infinity },
  variance_type: {
    default: null,
    implemented: [null],
    why: 'learned variance keeps model_output[:, :3] (a U-Net with extra variance channels); SD U-Nets have none',
  },
};

/** diffusers' get_order_list: the order of each step, groups of 1..solver_order. */
export function singlestepOrders(steps: number, order: number, lowerOrderFinal: boolean): number[] {
  const repeat = (pattern: number[], times: number) => Array.from({ length: Math.max(0, times) }, () => pattern).flat();
  if (order === 1) return new Array<number>(steps).fill(1);
  const group = order === 3 ? [1, 2, 3] : [1, 2];
  if (!lowerOrderFinal) return repeat(group, Math.floor(steps / order));
  if (order === 3) {
    if (steps % 3 === 0) return [...repeat(group, steps / 3 - 1), 1, 2, 1];
    if (steps % 3 === 1) return [...repeat(group, Math.floor(steps / 3)), 1];
    return [...repeat(group, Math.floor(steps / 3)), 1, 2];
  }
  return steps % 2 === 0 ? [...repeat(group, steps / 2 - 1), 1, 1] : [...repeat(group, Math.floor(steps / 2)), 1];
}

export class DPMSolverSinglestepScheduler implements Scheduler {
  static readonly className = 'DPMSolverSinglestepScheduler';
  static readonly options = DPM_SINGLESTEP_OPTIONS;
  readonly name = 'dpm-single';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse = 'none';
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);
  /** The order of each step (get_order_list), valid after setTimesteps. */
  orderList: number[] = [];

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly order: number;
  private readonly prediction: PredictionType;
  private readonly threshold: { ratio: number; maxValue: number } | null;
  private readonly dataPrediction: boolean;
  private readonly heun: boolean;
  /** diffusers' set_timesteps may switch it on for good (register_to_config). */
  private lowerOrderFinal: boolean;
  private readonly karras: boolean;
  private readonly finalSigmaZero: boolean;
  private readonly lambdaMinClipped: number;
  private readonly karrasRange: KarrasRange;
  private readonly index = new StepIndex();
  private modelOutputs: (Float32Array | null)[] = [];
  private groupSample: Float32Array | null = null;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(DPMSolverSinglestepScheduler.className, DPM_SINGLESTEP_OPTIONS, fileConfig);
    this.karrasRange = karrasRangeOf(DPMSolverSinglestepScheduler.className, fileConfig);
    const r = new ConfigReader(DPMSolverSinglestepScheduler.className, this.config);
    const beta = readBetaConfig(r);
    this.T = beta.num_train_timesteps;
    this.alphasCumprod = makeAlphasCumprod(beta);
    this.order = r.int('solver_order', 1);
    if (this.order > 3) throw r.fail('solver_order', 'must be 1, 2 or 3');
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.threshold = r.bool('thresholding')
      ? { ratio: r.number('dynamic_thresholding_ratio'), maxValue: r.number('sample_max_value') }
      : null;
    this.dataPrediction = r.oneOf('algorithm_type', ['dpmsolver++', 'dpmsolver', 'deis']) !== 'dpmsolver';
    this.heun = r.oneOf('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2']) === 'heun';
    // diffusers registers the mapped values (register_to_config).
    Object.assign(this.config, { algorithm_type: this.dataPrediction ? 'dpmsolver++' : 'dpmsolver', solver_type: this.heun ? 'heun' : 'midpoint' });
    this.lowerOrderFinal = r.bool('lower_order_final');
    this.karras = r.bool('use_karras_sigmas');
    this.finalSigmaZero = r.oneOf('final_sigmas_type', ['zero', 'sigma_min']) === 'zero';
    if (this.finalSigmaZero && !this.dataPrediction) {
      throw r.fail('final_sigmas_type', 'must be "sigma_min" with algorithm_type "dpmsolver" (diffusers raises for "zero")');
    }
    this.lambdaMinClipped = r.number('lambda_min_clipped');
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, DPMSolverSinglestepScheduler.className);
    const last = clippedLastTimestep(this.alphasCumprod, this.lambdaMinClipped);
    const spaced = solverTimesteps('linspace', this.T, n, 0, last);
    const { sigmas, timesteps } = solverSigmas(this.alphasCumprod, spaced, n, this.karras ? 'karras' : 'interp', this.karrasRange);
    sigmas.push(this.finalSigmaZero ? 0 : sigmaMin(this.alphasCumprod));
    this.sigmas = Float32Array.from(sigmas);
    this.timesteps = timesteps;
    this.modelOutputs = new Array<Float32Array | null>(this.order).fill(null);
    this.groupSample = null;
    if (!this.lowerOrderFinal && (n % this.order !== 0 || this.finalSigmaZero)) {
      this.lowerOrderFinal = true;
      Object.assign(this.config, { lower_order_final: true });
    }
    this.orderList = singlestepOrders(n, this.order, this.lowerOrderFinal);
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  addNoise(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    return addNoiseAtSigma(DPMSolverSinglestepScheduler.className, this.timesteps, this.sigmas, original, noise, timestep);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, DPMSolverSinglestepScheduler.className);
    const i = this.index.current(this.timesteps, timestep, DPMSolverSinglestepScheduler.className);
    const converted = this.convertModelOutput(modelOutput.data, sample.data, this.sigmas[i], sample.dims[0]);
    this.modelOutputs = [...this.modelOutputs.slice(1), converted];
    let order = this.orderList[i];
    if (order === undefined) throw new UsageError(`${DPMSolverSinglestepScheduler.className}: step ${i} is past the order list`);
    while (this.modelOutputs[this.modelOutputs.length - order] === null) order--;
    if (order === 1) this.groupSample = sample.data;
    const x = this.groupSample!;
    const out = order === 1 ? this.firstOrder(i, converted, x) : order === 2 ? this.secondOrder(i, x) : this.thirdOrder(i, x);
    this.index.advance();
    return mapElements(sample, (k) => out[k]);
  }

  private convertModelOutput(m: Float32Array, s: Float32Array, sigma: number, batch: number): Float32Array {
    const { alpha, sigma: sigmaT } = noiseLevel(sigma);
    if (this.dataPrediction) {
      let x0: Float32Array;
      if (this.prediction === 'epsilon') x0 = s.map((v, k) => f(f(v - f(sigmaT * m[k])) / alpha));
      else if (this.prediction === 'sample') x0 = m.slice();
      else x0 = s.map((v, k) => f(f(alpha * v) - f(sigmaT * m[k])));
      return this.threshold ? thresholdSample(x0, batch, this.threshold.ratio, this.threshold.maxValue) : x0;
    }
    // diffusers' singlestep DPM-Solver (noise prediction) does not threshold.
    if (this.prediction === 'epsilon') return m.slice();
    if (this.prediction === 'sample') return s.map((v, k) => f(f(v - f(alpha * m[k])) / sigmaT));
    return m.map((v, k) => f(f(alpha * v) + f(sigmaT * s[k])));
  }

  private firstOrder(i: number, m: Float32Array, x: Float32Array): Float32Array {
    const t = noiseLevel(this.sigmas[i + 1]);
    const s = noiseLevel(this.sigmas[i]);
    const h = f(t.lambda - s.lambda);
    if (this.dataPrediction) return combine([[f(t.sigma / s.sigma), x], [f(t.alpha * f(sleefExpf(-h) - 1)), m, -1]], x.length);
    return combine([[f(t.alpha / s.alpha), x], [f(t.sigma * f(sleefExpf(h) - 1)), m, -1]], x.length);
  }

  private secondOrder(i: number, x: Float32Array): Float32Array {
    const [t, s0, s1] = [i + 1, i, i - 1].map((j) => noiseLevel(this.sigmas[j]));
    const [m1, m0] = this.modelOutputs.slice(-2) as Float32Array[];
    const h = f(t.lambda - s1.lambda);
    const r0 = f(f(s0.lambda - s1.lambda) / h);
    const inv = f(1 / r0);
    const d1 = m0.map((v, k) => f(inv * f(v - m1[k])));
    const n = x.length;
    if (this.dataPrediction) {
      const em1 = f(sleefExpf(-h) - 1);
      const c0 = f(t.alpha * em1);
      const ratio = f(t.sigma / s1.sigma);
      if (this.heun) return combine([[ratio, x], [c0, m1, -1], [f(t.alpha * f(f(em1 / h) + 1)), d1]], n);
      return combine([[ratio, x], [c0, m1, -1], [f(0.5 * c0), d1, -1]], n);
    }
    const ep1 = f(sleefExpf(h) - 1);
    const c0 = f(t.sigma * ep1);
    const ratio = f(t.alpha / s1.alpha);
    if (this.heun) return combine([[ratio, x], [c0, m1, -1], [f(t.sigma * f(f(ep1 / h) - 1)), d1, -1]], n);
    return combine([[ratio, x], [c0, m1, -1], [f(0.5 * c0), d1, -1]], n);
  }

  private thirdOrder(i: number, x: Float32Array): Float32Array {
    const [t, s0, s1, s2] = [i + 1, i, i - 1, i - 2].map((j) => noiseLevel(this.sigmas[j]));
    const [m2, m1, m0] = this.modelOutputs.slice(-3) as Float32Array[];
    const h = f(t.lambda - s2.lambda);
    const r0 = f(f(s0.lambda - s2.lambda) / h);
    const r1 = f(f(s1.lambda - s2.lambda) / h);
    const invR0 = f(1 / r0);
    const invR1 = f(1 / r1);
    const dr = f(r0 - r1);
    const n = x.length;
    const d10 = m1.map((v, k) => f(invR1 * f(v - m2[k])));
    const d11 = m0.map((v, k) => f(invR0 * f(v - m2[k])));
    const d1 = d10.map((v, k) => f(f(f(r0 * v) - f(r1 * d11[k])) / dr));
    const d2 = d10.map((v, k) => f(f(2 * f(d11[k] - v)) / dr));
    const hh = f(h * h);
    if (this.dataPrediction) {
      const em1 = f(sleefExpf(-h) - 1);
      const first = [[f(t.sigma / s2.sigma), x], [f(t.alpha * em1), m2, -1]] satisfies Term[];
      const c1 = f(t.alpha * f(f(em1 / h) + 1));
      if (!this.heun) return combine([...first, [c1, d11]], n);
      return combine([...first, [c1, d1], [f(t.alpha * f(f(f(em1 + h) / hh) - 0.5)), d2, -1]], n);
    }
    const ep1 = f(sleefExpf(h) - 1);
    const first = [[f(t.alpha / s2.alpha), x], [f(t.sigma * ep1), m2, -1]] satisfies Term[];
    const c1 = f(t.sigma * f(f(ep1 / h) - 1));
    if (!this.heun) return combine([...first, [c1, d11, -1]], n);
    return combine([...first, [c1, d1, -1], [f(t.sigma * f(f(f(ep1 - h) / hh) - 0.5)), d2, -1]], n);
  }
}
