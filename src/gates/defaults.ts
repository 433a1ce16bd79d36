/**
 * Default thresholds for two fp32 builds of the same model (e.g. two ORT
 * optimization levels, or a golden trace against a live run). The reasoning
 * behind every number is in docs/thresholds.md; keep the two in step.
 * For fp16/int8 candidates, loosen them with --threshold or a thresholds file.
 */
import type { TensorThresholds, Thresholds } from '../report/schema.ts';

/** One U-Net call on identical inputs: only kernel-level rounding may differ. */
const TF_PRED: TensorThresholds = { cosine: 0.9999, relL2: 1e-3, nonFinite: 0 };
/** text − uncond is ~10× smaller than either prediction, so the same absolute error is ~10× larger relatively. */
const TF_DELTA: TensorThresholds = { cosine: 0.999, relL2: 1e-2, nonFinite: 0 };
/** Trajectories drift apart as per-step error accumulates through the scheduler. */
const FR_LATENT: TensorThresholds = { cosine: 0.999, relL2: 2e-2, nonFinite: 0 };
const FR_PRED: TensorThresholds = { cosine: 0.999, relL2: 5e-2, nonFinite: 0 };
const FR_DELTA: TensorThresholds = { cosine: 0.99, relL2: 0.15, nonFinite: 0 };
/** A single component on identical inputs, like a teacher-forced U-Net call. */
const COMPONENT: TensorThresholds = { cosine: 0.9999, relL2: 1e-3, nonFinite: 0 };

export function defaultThresholds(): Thresholds {
  return {
    teacherForced: {
      noisePred: { ...TF_PRED },
      noisePredUncond: { ...TF_PRED },
      noisePredText: { ...TF_PRED },
      guidanceDelta: { ...TF_DELTA },
    },
    freeRunning: {
      latentModelInput: { ...FR_LATENT },
      noisePredUncond: { ...FR_PRED },
      noisePredText: { ...FR_PRED },
      noisePred: { ...FR_PRED },
      guidanceDelta: { ...FR_DELTA },
      latents: { ...FR_LATENT },
    },
    components: {
      textEncoder: { ...COMPONENT },
      textEncoder2: { ...COMPONENT },
      pooledEmbeds: { ...COMPONENT },
      vaeEncoder: { ...COMPONENT },
      vaeDecoder: { ...COMPONENT },
    },
    final: {
      latents: { ...FR_LATENT },
      decoded: { ...FR_LATENT },
      image: { psnr: 40, ssim: 0.98 },
    },
  };
}
