/**
 * DPMSolverMultistepScheduler of diffusers 0.27.2: DPM-Solver++ (data
 * prediction; "DPM++ 2M" at solver_order 2), DPM-Solver (noise prediction)
 * and their SDE variants, which draw fresh noise every step from the
 * pipeline's torch generator (`randn_tensor(model_output.shape, generator)`).
 * Orders 1–3 (the SDE variants: 1–2, as diffusers has no third-order SDE
 * update). Timesteps are int64.
 */
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { GeneratorUse, Scheduler, SchedulerConfig } from './types.ts';
import { ConfigReader, PREDICTION_TYPES, TIMESTEP_SPACINGS, type PredictionType, type TimestepSpacing, checkStepCount } from './config.ts';
import { BETA_OPTIONS, SPACINGS, THRESHOLDING_OPTIONS, type OptionTable, configure } from './options.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';
import { type NoiseLevel, type Term, clippedLastTimestep, combine, noiseLevel, sigmaMin, solverSigmas, solverTimesteps } from './solver-common.ts';
import { type KarrasRange, addNoiseAtSigma, karrasRangeOf } from './solver-common.ts';
import { StepIndex } from './step-index.ts';
import { sleefExpf } from './torch-math.ts';
import { sigmaAlphasCumprod } from './euler.ts';
import { thresholdSample } from './thresholding.ts';

const ALGORITHMS = ['dpmsolver++', 'sde-dpmsolver++', 'dpmsolver', 'sde-dpmsolver'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

export const DPM_OPTIONS: OptionTable = {
  ...BETA_OPTIONS,
  solver_order: { default: 2, implemented: [1, 2, 3], why: 'solver orders above 3 are not implemented' },
  prediction_type: { default: 'epsilon', implemented: PREDICTION_TYPES },
  ...THRESHOLDING_OPTIONS,
  // diffusers registers the deprecated "deis" as dpmsolver++.
  algorithm_type: { default: 'dpmsolver++', implemented: [...ALGORITHMS, 'deis'] },
  // diffusers registers logrho, bh1 and bh2 as midpoint.
  solver_type: { default: 'midpoint', implemented: ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'] },
  lower_order_final: { default: true },
  euler_at_final: { default: false },
  use_karras_sigmas: { default: false },
  use_lu_lambdas: { default: false },
  final_sigmas_type: { default: 'zero', implemented: ['zero', 'sigma_min'] },
  lambda_min_clipped: { default: -Infinity },
  variance_type: {
    default: null,
    implemented: [null],
    why: 'learned variance keeps model_output[:, :3] (a U-Net with extra variance channels); SD U-Nets have none',
  },
  timestep_spacing: { default: 'linspace', implemented: SPACINGS },
  steps_offset: { default: 0 },
  rescale_betas_zero_snr: { default: false },
};

export class DPMSolverMultistepScheduler implements Scheduler {
  static readonly className = 'DPMSolverMultistepScheduler';
  static readonly options = DPM_OPTIONS;
  readonly name = 'dpmpp-2m';
  readonly timestepDtype = 'int64';
  readonly generatorUse: GeneratorUse;
  readonly initNoiseSigma = 1.0;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);

  private readonly T: number;
  private readonly alphasCumprod: Float32Array;
  private readonly order: number;
  private readonly prediction: PredictionType;
  private readonly thresholding: boolean;
  private readonly thresholdRatio: number;
  private readonly sampleMaxValue: number;
  private readonly algorithm: Algorithm;
  private readonly heun: boolean;
  private readonly lowerOrderFinal: boolean;
  private readonly eulerAtFinal: boolean;
  private readonly sigmaSchedule: 'interp' | 'karras' | 'lu';
  private readonly finalSigmaZero: boolean;
  private readonly lambdaMinClipped: number;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly karrasRange: KarrasRange;
  private readonly index = new StepIndex();
  private modelOutputs: (Float32Array | null)[] = [];
  private lowerOrderNums = 0;

  constructor(fileConfig: SchedulerConfig) {
    this.config = configure(DPMSolverMultistepScheduler.className, DPM_OPTIONS, fileConfig);
    this.karrasRange = karrasRangeOf(DPMSolverMultistepScheduler.className, fileConfig);
    const r = new ConfigReader(DPMSolverMultistepScheduler.className, this.config);
    this.alphasCumprod = sigmaAlphasCumprod(r);
    this.T = this.alphasCumprod.length;
    this.order = r.int('solver_order', 1);
    if (this.order > 3) throw r.fail('solver_order', 'must be 1, 2 or 3');
    this.prediction = r.oneOf('prediction_type', PREDICTION_TYPES);
    this.thresholding = r.bool('thresholding');
    this.thresholdRatio = r.number('dynamic_thresholding_ratio');
    this.sampleMaxValue = r.number('sample_max_value');
    const algorithm = r.oneOf('algorithm_type', [...ALGORITHMS, 'deis'] as const);
    this.algorithm = algorithm === 'deis' ? 'dpmsolver++' : algorithm;
    const sde = this.algorithm.startsWith('sde-');
    if (sde && this.order === 3) {
      throw r.fail('solver_order', `must be 1 or 2 with algorithm_type "${this.algorithm}" (diffusers 0.27.2 has no third-order SDE update)`);
    }
    this.generatorUse = sde ? 'every-step' : 'none';
    this.heun = r.oneOf('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2']) === 'heun';
    // diffusers registers the values it maps (register_to_config), so its config shows them.
    Object.assign(this.config, { algorithm_type: this.algorithm, solver_type: this.heun ? 'heun' : 'midpoint' });
    this.lowerOrderFinal = r.bool('lower_order_final');
    this.eulerAtFinal = r.bool('euler_at_final');
    const karras = r.bool('use_karras_sigmas');
    const lu = r.bool('use_lu_lambdas');
    this.sigmaSchedule = karras ? 'karras' : lu ? 'lu' : 'interp';
    this.finalSigmaZero = r.oneOf('final_sigmas_type', ['zero', 'sigma_min']) === 'zero';
    if (this.finalSigmaZero && !this.algorithm.endsWith('++')) {
      throw r.fail('final_sigmas_type', `must be "sigma_min" with algorithm_type "${this.algorithm}" (diffusers raises for "zero")`);
    }
    this.lambdaMinClipped = r.number('lambda_min_clipped');
    this.spacing = r.oneOf('timestep_spacing', TIMESTEP_SPACINGS);
    this.stepsOffset = r.int('steps_offset');
  }

  setTimesteps(n: number): void {
    checkStepCount(n, this.T, DPMSolverMultistepScheduler.className);
    const last = clippedLastTimestep(this.alphasCumprod, this.lambdaMinClipped);
    const spaced = solverTimesteps(this.spacing, this.T, n, this.stepsOffset, last);
    const { sigmas, timesteps } = solverSigmas(this.alphasCumprod, spaced, n, this.sigmaSchedule, this.karrasRange);
    // diffusers 0.27.2 appends sigma_last from final_sigmas_type for every sigma schedule.
    sigmas.push(this.finalSigmaZero ? 0 : sigmaMin(this.alphasCumprod));
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
    return addNoiseAtSigma(DPMSolverMultistepScheduler.className, this.timesteps, this.sigmas, original, noise, timestep);
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'> {
    checkSameShape(modelOutput, sample, DPMSolverMultistepScheduler.className);
    const i = this.index.current(this.timesteps, timestep, DPMSolverMultistepScheduler.className);
    const n = this.timesteps.length;
    const lowerOrderFinal =
      i === n - 1 && (this.eulerAtFinal || (this.lowerOrderFinal && n < 15) || this.finalSigmaZero);
    const lowerOrderSecond = i === n - 2 && this.lowerOrderFinal && n < 15;
    const converted = this.convertModelOutput(modelOutput.data, sample.data, this.sigmas[i], sample.dims[0]);
    this.modelOutputs = [...this.modelOutputs.slice(1), converted];
    const noise = this.drawNoise(modelOutput, generator);
    let out: Float32Array;
    if (this.order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) out = this.firstOrder(i, converted, sample.data, noise);
    else if (this.order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) out = this.secondOrder(i, sample.data, noise);
    else out = this.thirdOrder(i, sample.data);
    if (this.lowerOrderNums < this.order) this.lowerOrderNums++;
    this.index.advance();
    return mapElements(sample, (k) => out[k]);
  }

  /** The SDE variants draw randn_tensor(model_output.shape, generator) every step, before the update. */
  private drawNoise(modelOutput: Tensor<'float32'>, generator?: NoiseGenerator): Float32Array | null {
    if (this.generatorUse === 'none') return null;
    if (!generator) {
      throw new UsageError(`${DPMSolverMultistepScheduler.className}.step needs the generator: algorithm_type "${this.algorithm}" draws noise every step`);
    }
    return generator.randn(modelOutput.dims).data;
  }

  /** DPM-Solver++ works on the data prediction x0, DPM-Solver on the noise prediction (thresholding acts on x0). */
  private convertModelOutput(m: Float32Array, s: Float32Array, sigma: number, batch: number): Float32Array {
    const { alpha, sigma: sigmaT } = noiseLevel(sigma);
    const threshold = (x0: Float32Array) => thresholdSample(x0, batch, this.thresholdRatio, this.sampleMaxValue);
    if (this.algorithm.endsWith('++')) {
      let x0: Float32Array;
      if (this.prediction === 'epsilon') x0 = s.map((v, k) => f(f(v - f(sigmaT * m[k])) / alpha));
      else if (this.prediction === 'sample') x0 = m.slice();
      else x0 = s.map((v, k) => f(f(alpha * v) - f(sigmaT * m[k])));
      return this.thresholding ? threshold(x0) : x0;
    }
    let eps: Float32Array;
    if (this.prediction === 'epsilon') eps = m.slice();
    else if (this.prediction === 'sample') eps = s.map((v, k) => f(f(v - f(alpha * m[k])) / sigmaT));
    else eps = m.map((v, k) => f(f(alpha * v) + f(sigmaT * s[k])));
    if (!this.thresholding) return eps;
    const x0 = threshold(s.map((v, k) => f(f(v - f(sigmaT * eps[k])) / alpha)));
    return s.map((v, k) => f(f(v - f(alpha * x0[k])) / sigmaT));
  }

  private levels(i: number, back: number): NoiseLevel[] {
    return Array.from({ length: back + 2 }, (_, j) => noiseLevel(this.sigmas[i + 1 - j]));
  }

  /** First order (DDIM-equivalent) update of each algorithm. */
  private firstOrder(i: number, m: Float32Array, s: Float32Array, noise: Float32Array | null): Float32Array {
    const [t, s0] = this.levels(i, 0);
    const h = f(t.lambda - s0.lambda);
    switch (this.algorithm) {
      case 'dpmsolver++':
        return combine([[f(t.sigma / s0.sigma), s], [f(t.alpha * f(sleefExpf(-h) - 1)), m, -1]], s.length);
      case 'dpmsolver':
        return combine([[f(t.alpha / s0.alpha), s], [f(t.sigma * f(sleefExpf(h) - 1)), m, -1]], s.length);
      case 'sde-dpmsolver++': {
        const e2 = sleefExpf(f(-2 * h));
        return combine(
          [
            [f(f(t.sigma / s0.sigma) * sleefExpf(-h)), s],
            [f(t.alpha * f(1 - e2)), m],
            [f(t.sigma * sqrtF(f(1 - e2))), noise!],
          ],
          s.length,
        );
      }
      case 'sde-dpmsolver':
        return combine(
          [
            [f(t.alpha / s0.alpha), s],
            [f(2 * f(t.sigma * f(sleefExpf(h) - 1))), m, -1],
            [f(t.sigma * sqrtF(f(sleefExpf(f(2 * h)) - 1))), noise!],
          ],
          s.length,
        );
    }
  }

  private secondOrder(i: number, s: Float32Array, noise: Float32Array | null): Float32Array {
    const [t, s0, s1] = this.levels(i, 1);
    const m0 = this.modelOutputs[this.order - 1]!;
    const m1 = this.modelOutputs[this.order - 2]!;
    const h = f(t.lambda - s0.lambda);
    const h0 = f(s0.lambda - s1.lambda);
    const invR0 = f(1 / f(h0 / h));
    const d1 = m0.map((v, k) => f(invR0 * f(v - m1[k])));
    const n = s.length;
    switch (this.algorithm) {
      case 'dpmsolver++': {
        const em1 = f(sleefExpf(-h) - 1);
        const c0 = f(t.alpha * em1);
        const ratio = f(t.sigma / s0.sigma);
        if (this.heun) return combine([[ratio, s], [c0, m0, -1], [f(t.alpha * f(f(em1 / h) + 1)), d1]], n);
        return combine([[ratio, s], [c0, m0, -1], [f(0.5 * c0), d1, -1]], n);
      }
      case 'dpmsolver': {
        const ep1 = f(sleefExpf(h) - 1);
        const c0 = f(t.sigma * ep1);
        const ratio = f(t.alpha / s0.alpha);
        if (this.heun) return combine([[ratio, s], [c0, m0, -1], [f(t.sigma * f(f(ep1 / h) - 1)), d1, -1]], n);
        return combine([[ratio, s], [c0, m0, -1], [f(0.5 * c0), d1, -1]], n);
      }
      case 'sde-dpmsolver++': {
        const om = f(1 - sleefExpf(f(-2 * h)));
        const b = f(t.alpha * om);
        const first: Term = [f(f(t.sigma / s0.sigma) * sleefExpf(-h)), s];
        const last: Term = [f(t.sigma * sqrtF(om)), noise!];
        if (this.heun) return combine([first, [b, m0], [f(t.alpha * f(f(om / f(-2 * h)) + 1)), d1], last], n);
        return combine([first, [b, m0], [f(0.5 * b), d1], last], n);
      }
      case 'sde-dpmsolver': {
        const ep1 = f(sleefExpf(h) - 1);
        const c0 = f(t.sigma * ep1);
        const first: Term = [f(t.alpha / s0.alpha), s];
        const last: Term = [f(t.sigma * sqrtF(f(sleefExpf(f(2 * h)) - 1))), noise!];
        if (this.heun) return combine([first, [f(2 * c0), m0, -1], [f(2 * f(t.sigma * f(f(ep1 / h) - 1))), d1, -1], last], n);
        return combine([first, [f(2 * c0), m0, -1], [c0, d1, -1], last], n);
      }
    }
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
    const n = s.length;
    const d1 = new Float32Array(n);
    const d2 = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const d10 = f(invR0 * f(m0[k] - m1[k]));
      const diff = f(d10 - f(invR1 * f(m1[k] - m2[k])));
      d1[k] = f(d10 + f(w * diff));
      d2[k] = f(invR01 * diff);
    }
    const hh = f(h * h);
    if (this.algorithm === 'dpmsolver++') {
      const em1 = f(sleefExpf(-h) - 1);
      return combine(
        [
          [f(t.sigma / s0.sigma), s],
          [f(t.alpha * em1), m0, -1],
          [f(t.alpha * f(f(em1 / h) + 1)), d1],
          [f(t.alpha * f(f(f(em1 + h) / hh) - 0.5)), d2, -1],
        ],
        n,
      );
    }
    const ep1 = f(sleefExpf(h) - 1);
    return combine(
      [
        [f(t.alpha / s0.alpha), s],
        [f(t.sigma * ep1), m0, -1],
        [f(t.sigma * f(f(ep1 / h) - 1)), d1, -1],
        [f(t.sigma * f(f(f(ep1 - h) / hh) - 0.5)), d2, -1],
      ],
      n,
    );
  }
}
