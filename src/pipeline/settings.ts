/** The settings of one text-to-image run (the `pipeline` object of a trace manifest). */
import { UsageError } from '../errors.ts';
import type { NoiseKind } from '../rng/types.ts';

export interface PipelineSettings {
  prompt: string;
  negativePrompt: string;
  seed: number;
  noise: NoiseKind;
  steps: number;
  /** CLI name or diffusers class name; the model folder's own scheduler when omitted. */
  scheduler: string;
  guidanceScale: number;
  height: number;
  width: number;
  /** sd, lcm or sdxl (family.ts); detected from the model folder when omitted. */
  family?: string;
  /** Image-to-image: the input image's path (`--image`), and how much of the schedule runs from it. */
  image?: string;
  strength?: number;
}

export const DEFAULT_SETTINGS: Omit<PipelineSettings, 'prompt' | 'seed'> = {
  negativePrompt: '',
  noise: 'torch-cpu',
  steps: 10,
  /** Empty = the model folder's own scheduler (its scheduler_config.json `_class_name`). */
  scheduler: '',
  guidanceScale: 7.5,
  height: 128,
  width: 128,
};

/** diffusers' image-to-image default `strength`. */
export const DEFAULT_STRENGTH = 0.8;

/** diffusers' classifier-free guidance switch: guidance ≤ 1 runs the U-Net once, without the negative prompt. */
export function usesGuidance(s: PipelineSettings): boolean {
  return s.guidanceScale > 1;
}

export function validateSettings(s: PipelineSettings, vaeScaleFactor = 8): PipelineSettings {
  if (!Number.isInteger(s.steps) || s.steps < 1) throw new UsageError(`--steps must be an integer ≥ 1, got ${s.steps}`);
  for (const [flag, v] of [['--height', s.height], ['--width', s.width]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % vaeScaleFactor !== 0) {
      throw new UsageError(`${flag} must be a positive multiple of ${vaeScaleFactor} (the VAE's scale factor), got ${v}`);
    }
  }
  if (!Number.isFinite(s.guidanceScale)) throw new UsageError(`--guidance must be a finite number, got ${s.guidanceScale}`);
  if (s.strength !== undefined && s.image === undefined) throw new UsageError('--strength applies to image-to-image only: give --image too');
  if (s.noise !== 'torch-cpu' && s.noise !== 'numpy-legacy') {
    throw new UsageError(`--noise must be torch-cpu or numpy-legacy, got '${s.noise}'`);
  }
  return s;
}

/** Fills an empty scheduler with the class named in the model folder's scheduler config. */
export function withModelScheduler(s: PipelineSettings, schedulerConfig: Record<string, unknown>): PipelineSettings {
  if (s.scheduler) return s;
  const cls = schedulerConfig._class_name;
  if (typeof cls !== 'string') throw new UsageError('--scheduler is required: the model folder\'s scheduler_config.json names no _class_name');
  return { ...s, scheduler: cls };
}
