/** Per-step metric records from the tensors two builds produced. */
import { getBound, type ThresholdScope } from '../gates/slots.ts';
import { DEFAULT_TOLERANCE, compareTensors, errorStatistics, guidanceDelta, type Tolerance } from '../metrics/index.ts';
import type { GuidedPrediction } from '../pipeline/guidance.ts';
import { type FreeRunningRecord, type MetricSet, type StepRecord, type TeacherForcedRecord, type Thresholds, emptyStep } from '../report/schema.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { StepTensors } from './sides.ts';

/** The element-wise check's tolerances of one tensor: its `allclose.atol`/`allclose.rtol` settings, else the defaults. */
export type Tolerances = (scope: ThresholdScope, tensor: string) => Tolerance;

export function tolerancesFrom(t: Thresholds): Tolerances {
  return (scope, tensor) => ({
    atol: getBound(t, { scope, tensor, metric: 'allclose.atol' }) ?? DEFAULT_TOLERANCE.atol,
    rtol: getBound(t, { scope, tensor, metric: 'allclose.rtol' }) ?? DEFAULT_TOLERANCE.rtol,
  });
}

/** compareTensors' metrics, then (a second pass, off the SIMD kernel's path) the error statistics. */
export function compareOptional(a: Tensor | null | undefined, b: Tensor | null | undefined, name: string, tol: Tolerance = DEFAULT_TOLERANCE): MetricSet | null {
  if (!a || !b) return null;
  const metrics = compareTensors(a, b, name);
  return { ...metrics, ...errorStatistics(a, b, tol) };
}

function delta(p: { noisePredUncond?: Tensor<'float32'> | null; noisePredText?: Tensor<'float32'> }): Tensor<'float32'> | null {
  return p.noisePredUncond && p.noisePredText ? guidanceDelta(p.noisePredUncond, p.noisePredText) : null;
}

const DEFAULTS: Tolerances = () => DEFAULT_TOLERANCE;

export function freeRunningRecord(ref: StepTensors, cand: StepTensors, index: number, tol: Tolerances = DEFAULTS): FreeRunningRecord {
  const name = (t: string) => `step ${index} ${t}`;
  const t = (tensor: string) => tol('freeRunning', tensor);
  return {
    latentModelInput: compareOptional(ref.latentModelInput, cand.latentModelInput, name('latent_model_input'), t('latentModelInput')),
    noisePredUncond: compareOptional(ref.noisePredUncond, cand.noisePredUncond, name('noise_pred_uncond'), t('noisePredUncond')),
    noisePredText: compareOptional(ref.noisePredText, cand.noisePredText, name('noise_pred_text'), t('noisePredText')),
    noisePred: compareOptional(ref.noisePred, cand.noisePred, name('noise_pred'), t('noisePred')),
    guidanceDelta: compareOptional(delta(ref), delta(cand), name('guidance delta'), t('guidanceDelta')),
    latents: compareOptional(ref.latents, cand.latents, name('latents'), t('latents')),
  };
}

export function teacherForcedRecord(ref: StepTensors, cand: GuidedPrediction | StepTensors, index: number, tol: Tolerances = DEFAULTS): TeacherForcedRecord {
  const name = (t: string) => `step ${index} teacher-forced ${t}`;
  const t = (tensor: string) => tol('teacherForced', tensor);
  return {
    noisePred: compareOptional(ref.noisePred, cand.noisePred, name('noise_pred'), t('noisePred')),
    noisePredUncond: compareOptional(ref.noisePredUncond, cand.noisePredUncond, name('noise_pred_uncond'), t('noisePredUncond')),
    noisePredText: compareOptional(ref.noisePredText, cand.noisePredText, name('noise_pred_text'), t('noisePredText')),
    guidanceDelta: compareOptional(delta(ref), delta(cand), name('guidance delta'), t('guidanceDelta')),
  };
}

export function stepRecord(index: number, timestep: number, tf: TeacherForcedRecord | null, fr: FreeRunningRecord | null): StepRecord {
  const record = emptyStep(index, timestep);
  if (tf) record.teacherForced = tf;
  if (fr) record.freeRunning = fr;
  return record;
}

/** Bitwise equality of two tensors (used to skip work whose answer is already known). */
export function identical(a: Tensor | null | undefined, b: Tensor | null | undefined): boolean {
  if (!a || !b || a.dtype !== b.dtype || a.data.length !== b.data.length) return false;
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return Buffer.compare(x, y) === 0;
}
