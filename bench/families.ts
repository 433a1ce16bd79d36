/**
 * The per-family part of `npm run bench`: `generate` on each family's tiny
 * models against its bare ONNX Runtime calls, next to SD 1.x's figure from the
 * same rounds. Two groups, each with its own SD 1.x baseline: the
 * diffusers-built models (test/reference/families/, made by
 * scripts/reference/families.py; tokenizers a 1,114-token CLIP slice) and the
 * forged presets (`lockstep forge tiny --preset sd|sd2|lcm|sdxl`; CLIP's full
 * tokenizer, as real models have). Every run is a process of its own; the
 * cases are interleaved round by round and the medians reported, because on a
 * shared machine a single run's wall time is noise.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineSettings } from '../src/pipeline/settings.ts';
import type { RunJob } from './child.ts';

export interface FamilyCase {
  label: string;
  /** The model folder. */
  model: string;
  steps: number;
  settings: Partial<PipelineSettings>;
  /** What differs from the SD 1.x baseline's run, besides the model. */
  differs: string;
}

/** A baseline and the cases held to it. */
export interface FamilyGroup {
  name: string;
  baseline: FamilyCase;
  cases: FamilyCase[];
}

export const FAMILIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'reference', 'families');

/** The settings every case shares: those of the diffusers reference traces (64×64, seed 42). */
export const FAMILY_SIZE = 64;
const NEGATIVE = 'low resolution, blurry';
/** 64×64, made by scripts/reference/families.py: the image-to-image input of both groups. */
const INPUT = join(FAMILIES_DIR, 'sd', 'input.png');
const TXT2IMG = { negativePrompt: NEGATIVE };
/** Image-to-image runs 5 scheduled steps at strength 0.8: the same 4 U-Net steps as text-to-image. */
const IMG2IMG = { negativePrompt: NEGATIVE, strength: 0.8, image: INPUT };
const IMG2IMG_DIFFERS = '+ VAE encoder and input PNG; 5 steps × strength 0.8 = 4 U-Net steps';
const SDXL_DIFFERS = 'Euler (the folder\'s own), two tokenizers and text encoders, text_embeds + time_ids';
const LCM_DIFFERS = 'LCM scheduler, guidance 8.5 as timestep_cond (batch 1, no negative prompt)';
const SD2_DIFFERS = 'OpenCLIP pad token, gelu text encoder, v-prediction (DDIM)';

/**
 * The cases of one group, from its model folders: SD 1.x text-to-image (the baseline) and each family that
 * group has (`turbo` only among the diffusers-built models: a turbo model is an sd folder with another scheduler).
 */
function familyGroup(name: string, prefix: string, folder: (family: string) => string, families: readonly string[], sdConfig: string): FamilyGroup {
  const c = (label: string, family: string, steps: number, settings: Partial<PipelineSettings>, differs: string): FamilyCase => ({
    label: `${prefix}${label}`,
    model: folder(family),
    steps,
    settings,
    differs,
  });
  const cases: Record<string, FamilyCase[]> = {
    sd: [c('sd (SD 1.x) img2img', 'sd', 5, IMG2IMG, IMG2IMG_DIFFERS)],
    sd2: [c('sd2 txt2img', 'sd2', 4, TXT2IMG, SD2_DIFFERS)],
    lcm: [
      c('lcm txt2img', 'lcm', 4, { guidanceScale: 8.5 }, LCM_DIFFERS),
      c('lcm img2img', 'lcm', 4, { guidanceScale: 8.5, strength: 0.8, image: INPUT }, `as lcm, + VAE encoder and input PNG; strength 0.8 shortens the schedule, all 4 U-Net steps run`),
    ],
    turbo: [c('turbo txt2img', 'turbo', 4, { guidanceScale: 0 }, 'Euler trailing, guidance 0 (batch 1, no negative prompt)')],
    sdxl: [c('sdxl txt2img', 'sdxl', 4, TXT2IMG, SDXL_DIFFERS), c('sdxl img2img', 'sdxl', 5, IMG2IMG, `as sdxl, ${IMG2IMG_DIFFERS}`)],
  };
  return {
    name,
    baseline: c('sd (SD 1.x) txt2img', 'sd', 4, TXT2IMG, `baseline: DDIM (${sdConfig}), 4 steps, guidance 7.5 (batch 2), 64×64`),
    cases: families.flatMap((f) => cases[f]),
  };
}

/** The diffusers-built tiny models: SD 1.x text-to-image is the figure every family is held to. */
export const DIFFUSERS_GROUP: FamilyGroup = familyGroup(
  'diffusers-built tiny models (test/reference/families)',
  '',
  (family) => join(FAMILIES_DIR, family, 'model'),
  ['sd', 'sd2', 'lcm', 'turbo', 'sdxl'],
  "the folder's own",
);

/** The forged presets (no turbo preset: turbo is an sd folder with another scheduler, covered above). */
export function forgedGroup(folder: (preset: string) => string): FamilyGroup {
  return familyGroup('forged presets (lockstep forge tiny --preset, full CLIP tokenizers)', 'forged ', folder, ['sd', 'sd2', 'lcm', 'sdxl'], "the preset's");
}

export const FORGED_PRESETS = ['sd', 'sd2', 'lcm', 'sdxl'] as const;

export function familyJob(c: FamilyCase): RunJob {
  return { kind: 'generate', model: c.model, steps: c.steps, size: FAMILY_SIZE, settings: c.settings };
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

/**
 * A family's wall / ORT against SD 1.x's, paired by round: each round's two runs are minutes apart at most,
 * so a load that rises or falls over the bench moves both, and the difference keeps what the family adds.
 * Rounds are matched by index (both lists in round order).
 */
export interface PairedDifference {
  /** Median over the rounds of (family's wall / ORT − SD 1.x's); ≤ 0: the family costs no more. */
  median: number;
  /**
   * The noise of that median: 1.253 · 1.4826 · MAD / √n, the standard error of a median of normal
   * samples with the spread estimated robustly (one stalled run does not widen it).
   */
  standardError: number;
  rounds: number;
}

export function pairedDifference(family: GenerateTimes[], baseline: GenerateTimes[]): PairedDifference {
  if (family.length !== baseline.length || family.length === 0) throw new Error(`paired rounds: ${family.length} family runs, ${baseline.length} baseline runs`);
  const ratio = (r: GenerateTimes) => r.wallSeconds / (r.ortSeconds + r.ortSessionSeconds);
  const diffs = family.map((r, i) => ratio(r) - ratio(baseline[i]));
  const m = median(diffs);
  const mad = median(diffs.map((d) => Math.abs(d - m)));
  return { median: m, standardError: (1.253 * 1.4826 * mad) / Math.sqrt(diffs.length), rounds: diffs.length };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
