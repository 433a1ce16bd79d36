/**
 * DPMSolverMultistepScheduler of diffusers 0.27.2 with algorithm_type
 * "dpmsolver++" (DPM-Solver++(2M) at solver_order 2; orders 1 and 3 too).
 * Timesteps are int64. The SDE and noise-prediction variants are refused.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount, mergeConfig } from './config.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { arange, interpOnIndex, linspace, roundHalfEven } from './numpy-like.ts';
import { karrasSigmas, logSigmas, sigmaToT, trainingSigmas } from './sigmas.ts';
import { StepIndex } from './step-index.ts';
import { sleefExpf } from './torch-math.ts';
import { sigmaAlphasCumprod } from './euler.ts';

export const DPM_DEFAULTS: Readonly<SchedulerConfig> = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_lu_lambdas: false,
  final_sigmas_type: 'zero',
  lambda_min_clipped: -Infinity,
  variance_type: null,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

/** alpha_t = 1/sqrt(sigma² + 1), sigma_t = sigma·alpha_t, and lambda = log α − log σ (float32 0-d tensors). */
interface NoiseLevel {
  alpha: number;
  sigma: number;
  lambda: number;
}

function noiseLevel(sigma: number): NoiseLevel {
  const alpha = f(1 / sqrtF(f(f(sigma * sigma) + 1)));
  const s = f(sigma * alpha);
  return { alpha, sigma: s, lambda: f(f(Math.log(alpha)) - f(Math.log(s))) };
}

export class DPMSolverMultistepScheduler implements Scheduler {
  static readonly className = 'DPMSolverMultistepScheduler';
  readonly name = 'dpmpp-2m';
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
  private readonly heun: boolean;
  private readonly lowerOrderFinal: boolean;
  private readonly eulerAtFinal: boolean;
  private readonly sigmaSchedule: 'interp' | 'karras' | 'lu';
  private readonly finalSigmaZero: boolean;
  private readonly lambdaMinClipped: number;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly index = new StepIndex();
  private modelOutputs: (Float32Array | null)[] = [];
  private lowerOrderNums = 0;

  constructor(fileConfig: SchedulerConfig) {
    this.config = mergeConfig(DPM_DEFAULTS, fileConfig);
    const r = new ConfigReader(DPMSolverMultistepScheduler.className, this.config);
    this.alphasCumprod = sigmaAlphasCumprod(r);
    this.T = this.alphasCumprod.length;
    this.order = r.int('solver_order', 1);
    if (this.order > 3) throw r.fail('solver_order', 'must be 1, 2 or 3');
    this.prediction = r.supported('prediction_type', PREDICTION_TYPES);
    r.supported('thresholding', [false]);
    // diffusers maps the deprecated "deis" to dpmsolver++ and logrho/bh1/bh2 to midpoint.
    r.supported('algorithm_type', ['dpmsolver++', 'deis']);
    this.heun = r.oneOf('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2']) === 'heun';
    this.lowerOrderFinal = r.bool('lower_order_final');
    this.eulerAtFinal = r.bool('euler_at_final');
    const karras = r.bool('use_karras_sigmas');
    const lu = r.bool('use_lu_lambdas');
    this.sigmaSchedule = karras ? 'karras' : lu ? 'lu' : 'interp';
    this.finalSigmaZero = r.oneOf('final_sigmas_type', ['zero', 'sigma_min']) === 'zero';
    this.lambdaMinClipped = r.number('lambda_min_clipped');
    r.supported('variance_type', [null]);
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
  }

  /** T minus the number of training lambdas below lambda_min_clipped (torch.searchsorted on the flipped lambdas). */
  private lastTimestep(): number {
    const clip = f(this.lambdaMinClipped);
    let below = 0;
    for (const a of this.alphasCumprod) {
      const lambda = f(f(Math.log(sqrtF(a))) - f(Math.log(sqrtF(f(1 - a)))));
      if (lambda < clip) below++;
    }
    return this.T - below;
  }

  private spacedTimesteps(n: number): number[] {
    const last = this.lastTimestep();
    if (this.spacing === 'linspace') return linspace(0, last - 1, n + 1).map(roundHalfEven).reverse().slice(0, -1);
    if (this.spacing === 'leading') {
      const ratio = Math.floor(last / (n + 1));
      return Array.from({ length: n }, (_, i) => (n - i) * ratio + this.stepsOffset);
    }
    return arange(last, 0, -this.T / n).map((t) => roundHalfEven(t) - 1);
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, DPMSolverMultistepScheduler.className);
    let timesteps = this.spacedTimesteps(n);
    const train = trainingSigmas(this.alphasCumprod);
    const logS = logSigmas(train);
    let sigmas: number[];
    if (this.sigmaSchedule === 'interp') {
      sigmas = interpOnIndex(timesteps, train);
      const a0 = this.alphasCumprod[0];
      sigmas.push(this.finalSigmaZero ? 0 : sqrtF(f(f(1 - a0) / a0)));
    } else {
      if (this.sigmaSchedule === 'karras') {
        sigmas = karrasSigmas(train[0], train[train.length - 1], n);
      } else {
        // _convert_to_lu with rho = 1: lambdas spaced evenly between the flipped log-sigmas' ends.
        sigmas = linspace(0, 1, n).map((r) => Math.exp(logS[logS.length - 1] + r * (logS[0] - logS[logS.length - 1])));
      }
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logS)));
      // diffusers 0.27.2 repeats the last sigma here, whatever final_sigmas_type says.
      sigmas.push(sigmas[sigmas.length - 1]);
    }
    this.sigmas = Float32Array.from(sigmas);
    this.timesteps = timesteps;
    this.modelOutputs = new Array<Float32Array | null>(this.order).fill(null);
    this.lowerOrderNums = 0;
    this.index.reset();
  }

  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, DPMSolverMultistepScheduler.className);
    const i = this.index.current(this.timesteps, timestep, DPMSolverMultistepScheduler.className);
    const n = this.timesteps.length;
    const lowerOrderFinal =
      i === n - 1 && (this.eulerAtFinal || (this.lowerOrderFinal && n < 15) || this.finalSigmaZero);
    const lowerOrderSecond = i === n - 2 && this.lowerOrderFinal && n < 15;
    const x0 = this.convertModelOutput(modelOutput.data, sample.data, this.sigmas[i]);
    this.modelOutputs = [...this.modelOutputs.slice(1), x0];
    let out: Float32Array;
    if (this.order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) out = this.firstOrder(i, x0, sample.data);
    else if (this.order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) out = this.secondOrder(i, sample.data);
    else out = this.thirdOrder(i, sample.data);
    if (this.lowerOrderNums < this.order) this.lowerOrderNums++;
    this.index.advance();
    return mapElements(sample, (k) => out[k]);
  }

  /** DPM-Solver++ works on the data prediction x0. */
  private convertModelOutput(m: Float32Array, s: Float32Array, sigma: number): Float32Array {
    const { alpha, sigma: sigmaT } = noiseLevel(sigma);
    if (this.prediction === 'epsilon') return s.map((v, k) => f(f(v - f(sigmaT * m[k])) / alpha));
    return s.map((v, k) => f(f(alpha * v) - f(sigmaT * m[k])));
  }

  private levels(i: number, back: number): NoiseLevel[] {
    return Array.from({ length: back + 2 }, (_, j) => noiseLevel(this.sigmas[i + 1 - j]));
  }

  /** Equivalent to DDIM: x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x0. */
  private firstOrder(i: number, x0: Float32Array, s: Float32Array): Float32Array {
    const [t, s0] = this.levels(i, 0);
    const h = f(t.lambda - s0.lambda);
    const ratio = f(t.sigma / s0.sigma);
    const c = f(t.alpha * f(sleefExpf(-h) - 1));
    return s.map((v, k) => f(f(ratio * v) - f(c * x0[k])));
  }

  private secondOrder(i: number, s: Float32Array): Float32Array {
    const [t, s0, s1] = this.levels(i, 1);
    const m0 = this.modelOutputs[this.order - 1]!;
    const m1 = this.modelOutputs[this.order - 2]!;
    const h = f(t.lambda - s0.lambda);
    const h0 = f(s0.lambda - s1.lambda);
    const invR0 = f(1 / f(h0 / h));
    const ratio = f(t.sigma / s0.sigma);
    const em1 = f(sleefExpf(-h) - 1);
    const c0 = f(t.alpha * em1);
    const c1 = this.heun ? f(t.alpha * f(f(em1 / h) + 1)) : f(0.5 * c0);
    return s.map((v, k) => {
      const d1 = f(invR0 * f(m0[k] - m1[k]));
      const base = f(f(ratio * v) - f(c0 * m0[k]));
      return this.heun ? f(base + f(c1 * d1)) : f(base - f(c1 * d1));
    });
  }

  private thirdOrder(i: number, s: Float32Array): Float32Array {
    const [t, s0, s1, s2] = this.levels(i, 2);
    const [m2, m1, m0] = this.modelOutputs.slice(-3) as Float32Array[];
    const h = f(t.lambda - s0.lambda);
    const r0 = f(f(s0.lambda - s1.lambda) / h);
    const r1 = f(f(s1.lambda - s2.lambda) / h);
    const r01 = f(r0 + r1);
    const w = f(r0 / r01);
    const invR0 = f(1 / r0);
    const invR1 = f(1 / r1);
    const invR01 = f(1 / r01);
    const ratio = f(t.sigma / s0.sigma);
    const em1 = f(sleefExpf(-h) - 1);
    const c0 = f(t.alpha * em1);
    const c1 = f(t.alpha * f(f(em1 / h) + 1));
    const c2 = f(t.alpha * f(f(f(em1 + h) / f(h * h)) - 0.5));
    return s.map((v, k) => {
      const d10 = f(invR0 * f(m0[k] - m1[k]));
      const d11 = f(invR1 * f(m1[k] - m2[k]));
      const diff = f(d10 - d11);
      const d1 = f(d10 + f(w * diff));
      const d2 = f(invR01 * diff);
      return f(f(f(f(ratio * v) - f(c0 * m0[k])) + f(c1 * d1)) - f(c2 * d2));
    });
  }
}
