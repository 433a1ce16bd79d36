/**
 * Would an SDXL-shaped bench preset (SDXL base 1.0's sizes, float32 like the
 * sd15 preset) fit this machine? Worked out from the real parameter counts
 * (scripts/reference/sdxl-params.py counts them with diffusers/transformers on
 * torch's meta device), lockstep's memory estimate (src/models/memory-estimate.ts)
 * and what was measured for the SD 1.5-sized preset — no SDXL model is built.
 */
import { statfsSync } from 'node:fs';
import { estimateRunMemory, type MemoryEstimate, type ModelFootprint } from '../src/models/memory-estimate.ts';

/** SDXL base 1.0's parameters per optimum component (vae_encoder includes quant_conv, vae_decoder post_quant_conv). */
export const SDXL_BASE_PARAMS = {
  text_encoder: 123_060_480,
  text_encoder_2: 694_659_840,
  unet: 2_567_463_684,
  vae_encoder: 34_163_664,
  vae_decoder: 49_490_199,
} as const;

/** Attention heads per U-Net level (diffusers' attention_head_dim [5, 10, 20]: head counts; no attention at level 0). */
const SDXL_HEADS = [5, 10, 20];

/**
 * SD 1.5-sized preset, measured (docs/benchmarks.md, 2026-12-02): generate's peak RSS / weight bytes;
 * generate's peak (5.590 GiB at 512², 2 steps) / the same U-Net-stage projection as `unetStageBytes`
 * made from its own folder (5.482 GiB); and the forge.
 */
export const SD15_MEASURED = { generatePeakPerWeight: 1.453, peakPerUnetStage: 5.59 / 5.482, forgeSeconds: 15.329, forgeParams: 4.131e9 / 4 };

const F32 = 4;

/** The footprint readModelFootprint gives an SDXL base export in float32 (every component, each level's heads). */
export function sdxlFootprint(): ModelFootprint {
  const bytes = (c: keyof typeof SDXL_BASE_PARAMS) => SDXL_BASE_PARAMS[c] * F32;
  return {
    dir: '(SDXL base 1.0, float32, not built)',
    weightBytes: { text_encoder: bytes('text_encoder'), text_encoder_2: bytes('text_encoder_2'), unet: bytes('unet'), vae_decoder: bytes('vae_decoder'), vae_encoder: bytes('vae_encoder') },
    vaeScaleFactor: 8,
    latentChannels: 4,
    unet: { blockOutChannels: [320, 640, 1280], attentionLevels: [false, true, true], heads: SDXL_HEADS, layersPerBlock: 2 },
    vae: { blockOutChannels: [128, 256, 512, 512] },
    textEncoder: { positions: 77, hidden: 768, heads: 12 },
    textEncoder2: { positions: 77, hidden: 1280, heads: 20 },
    elementBytes: F32,
  };
}

export interface SdxlFit {
  size: number;
  weightBytes: number;
  /** lockstep's estimate (every component; each U-Net level with its own head count since 2026-12-02). */
  estimate: MemoryEstimate;
  /** The same, plus text_encoder_2's and the VAE encoder's weights, and each level's own head count. */
  completedBytes: number;
  /** The U-Net stage of generate (encoders released): U-Net + VAE decoder weights, the U-Net's activations (own heads per level), latents. */
  unetStageBytes: number;
  /** unetStageBytes × what SD 1.5's measured peak was over its own projection: generate's expected peak. */
  projectedPeakBytes: number;
  /** SD 1.5's measured generate peak / weight bytes applied to SDXL's weights. */
  sd15ScaledBytes: number;
}

export function sdxlFit(size: number, guidanceScale = 5): SdxlFit {
  const fp = sdxlFootprint();
  const settings = { height: size, width: size, guidanceScale };
  const estimate = estimateRunMemory(fp, settings);
  // Each attention level with its own head count: the largest score matrix over the levels.
  const unetActivations = Math.max(
    ...[1, 2].map((level) => estimateRunMemory({ ...fp, unet: { ...fp.unet, heads: SDXL_HEADS[level], attentionLevels: fp.unet.attentionLevels.map((_, j) => j === level) } }, settings).activations.unet),
  );
  const weightBytes = Object.values(SDXL_BASE_PARAMS).reduce((a, b) => a + b, 0) * F32;
  const peak = Math.max(estimate.activations.text_encoder, estimate.activations.vae_decoder, unetActivations);
  const completedBytes = weightBytes + peak + estimate.latents + estimate.decodedImage;
  const unetStageBytes = (SDXL_BASE_PARAMS.unet + SDXL_BASE_PARAMS.vae_decoder) * F32 + unetActivations + estimate.latents;
  return { size, weightBytes, estimate, completedBytes, unetStageBytes, projectedPeakBytes: unetStageBytes * SD15_MEASURED.peakPerUnetStage, sd15ScaledBytes: SD15_MEASURED.generatePeakPerWeight * weightBytes };
}

/** Seconds to forge SDXL base's float32 weights, extrapolated from the sd15 forge (linear in parameters). */
export function sdxlForgeSeconds(): number {
  const params = Object.values(SDXL_BASE_PARAMS).reduce((a, b) => a + b, 0);
  return (SD15_MEASURED.forgeSeconds * params) / SD15_MEASURED.forgeParams;
}

/** Free bytes on the file system holding `dir`. */
export function freeDiskBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
