/**
 * The per-family part of `npm run bench`: `generate` on each family's tiny
 * diffusers-built model (test/reference/families/, made by
 * scripts/reference/families.py) against its bare ONNX Runtime calls, next to
 * SD 1.x's figure from the same rounds. Every run is a process of its own; the
 * cases are interleaved round by round and the medians reported, because on a
 * shared machine a single run's wall time is noise.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineSettings } from '../src/pipeline/settings.ts';
import type { RunJob } from './child.ts';

export interface FamilyCase {
  label: string;
  /** Folder under test/reference/families/ (holds model/ and, for image-to-image, input.png). */
  family: string;
  steps: number;
  settings: Partial<PipelineSettings>;
  /** What differs from the SD 1.x baseline's run, besides the model. */
  differs: string;
}

export const FAMILIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'reference', 'families');

/** The settings every case shares: those of the diffusers reference traces (64×64, seed 42). */
export const FAMILY_SIZE = 64;
const NEGATIVE = 'low resolution, blurry';

/** SD 1.x text-to-image: the figure every family is held to. */
export const BASELINE: FamilyCase = {
  label: 'sd (SD 1.x) txt2img',
  family: 'sd',
  steps: 4,
  settings: { negativePrompt: NEGATIVE },
  differs: 'baseline: DDIM (the folder\'s own), 4 steps, guidance 7.5 (batch 2), 64×64',
};

/** Image-to-image runs 5 scheduled steps at strength 0.8: the same 4 U-Net steps as text-to-image. */
const img2img = (family: string): Partial<PipelineSettings> => ({ negativePrompt: NEGATIVE, strength: 0.8, image: familyInput(family) });

export const FAMILY_CASES: FamilyCase[] = [
  { label: 'sd (SD 1.x) img2img', family: 'sd', steps: 5, settings: img2img('sd'), differs: '+ VAE encoder and input PNG; 5 steps × strength 0.8 = 4 U-Net steps' },
  { label: 'sd2 txt2img', family: 'sd2', steps: 4, settings: { negativePrompt: NEGATIVE }, differs: 'OpenCLIP pad token, gelu text encoder, v-prediction (DDIM)' },
  { label: 'lcm txt2img', family: 'lcm', steps: 4, settings: { guidanceScale: 8.5 }, differs: 'LCM scheduler, guidance 8.5 as timestep_cond (batch 1, no negative prompt)' },
  { label: 'turbo txt2img', family: 'turbo', steps: 4, settings: { guidanceScale: 0 }, differs: 'Euler trailing, guidance 0 (batch 1, no negative prompt)' },
  { label: 'sdxl txt2img', family: 'sdxl', steps: 4, settings: { negativePrompt: NEGATIVE }, differs: 'Euler (the folder\'s own), two text encoders, text_embeds + time_ids' },
  { label: 'sdxl img2img', family: 'sdxl', steps: 5, settings: img2img('sdxl'), differs: 'as sdxl, + VAE encoder and input PNG; 5 steps × strength 0.8 = 4 U-Net steps' },
];

function familyInput(family: string): string {
  return join(FAMILIES_DIR, family, 'input.png');
}

export function familyJob(c: FamilyCase): RunJob {
  return { kind: 'generate', model: join(FAMILIES_DIR, c.family, 'model'), steps: c.steps, size: FAMILY_SIZE, settings: c.settings };
}

/** One generate's timings, as bench/child.ts reports them. */
export interface GenerateTimes {
  wallSeconds: number;
  ortSeconds: number;
  ortSessionSeconds: number;
  ortCalls: number;
  peakRssBytes: number;
}

/** The medians over the rounds of one case. */
export interface FamilyMedians {
  wallSeconds: number;
  ortSeconds: number;
  ortSessionSeconds: number;
  ortCalls: number;
  /** wall / (ORT runs + sessions), the median of the per-round ratios. */
  ratio: number;
  /** wall − ORT in seconds: what lockstep itself spent, the median of the per-round values. */
  overheadSeconds: number;
  peakRssBytes: number;
}

export function medians(rounds: GenerateTimes[]): FamilyMedians {
  const ort = (r: GenerateTimes) => r.ortSeconds + r.ortSessionSeconds;
  return {
    wallSeconds: median(rounds.map((r) => r.wallSeconds)),
    ortSeconds: median(rounds.map((r) => r.ortSeconds)),
    ortSessionSeconds: median(rounds.map((r) => r.ortSessionSeconds)),
    ortCalls: median(rounds.map((r) => r.ortCalls)),
    ratio: median(rounds.map((r) => r.wallSeconds / ort(r))),
    overheadSeconds: median(rounds.map((r) => r.wallSeconds - ort(r))),
    peakRssBytes: median(rounds.map((r) => r.peakRssBytes)),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
