/** Per-step metric records from the tensors two builds produced. */
import { compareTensors, guidanceDelta } from '../metrics/index.ts';
import type { GuidedPrediction } from '../pipeline/guidance.ts';
import { type FreeRunningRecord, type MetricSet, type StepRecord, type TeacherForcedRecord, emptyStep } from '../report/schema.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { StepTensors } from './sides.ts';

export function compareOptional(a: Tensor | null | undefined, b: Tensor | null | undefined, name: string): MetricSet | null {
  return a && b ? compareTensors(a, b, name) : null;
}

function delta(p: { noisePredUncond?: Tensor<'float32'> | null; noisePredText?: Tensor<'float32'> }): Tensor<'float32'> | null {
  return p.noisePredUncond && p.noisePredText ? guidanceDelta(p.noisePredUncond, p.noisePredText) : null;
}

export function freeRunningRecord(ref: StepTensors, cand: StepTensors, index: number): FreeRunningRecord {
  const name = (t: string) => `step ${index} ${t}`;
  return {
    latentModelInput: compareOptional(ref.latentModelInput, cand.latentModelInput, name('latent_model_input')),
    noisePredUncond: compareOptional(ref.noisePredUncond, cand.noisePredUncond, name('noise_pred_uncond')),
    noisePredText: compareOptional(ref.noisePredText, cand.noisePredText, name('noise_pred_text')),
    noisePred: compareOptional(ref.noisePred, cand.noisePred, name('noise_pred')),
    guidanceDelta: compareOptional(delta(ref), delta(cand), name('guidance delta')),
    latents: compareOptional(ref.latents, cand.latents, name('latents')),
  };
}

export function teacherForcedRecord(ref: StepTensors, cand: GuidedPrediction | StepTensors, index: number): TeacherForcedRecord {
  const name = (t: string) => `step ${index} teacher-forced ${t}`;
  return {
    noisePred: compareOptional(ref.noisePred, cand.noisePred, name('noise_pred')),
    noisePredUncond: compareOptional(ref.noisePredUncond, cand.noisePredUncond, name('noise_pred_uncond')),
    noisePredText: compareOptional(ref.noisePredText, cand.noisePredText, name('noise_pred_text')),
    guidanceDelta: compareOptional(delta(ref), delta(cand), name('guidance delta')),
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
