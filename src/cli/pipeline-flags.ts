/** Pipeline flags shared by generate, compare and repeat, parsed into PipelineSettings. */
import { Command, Option } from 'commander';
import { UsageError } from '../errors.ts';
import { DEFAULT_SETTINGS, DEFAULT_STRENGTH, type PipelineSettings } from '../pipeline/settings.ts';
import { FAMILY_NAMES, parseFamily } from '../pipeline/family.ts';
import type { NoiseKind } from '../rng/types.ts';

export interface PipelineFlagValues {
  prompt?: string;
  negativePrompt?: string;
  seed?: string;
  steps?: string;
  scheduler?: string;
  guidance?: string;
  height?: string;
  width?: string;
  noise?: string;
  pipeline?: string;
  image?: string;
  strength?: string;
}

export function addPipelineFlags(cmd: Command, required: boolean): Command {
  const prompt = new Option('--prompt <text>', 'text prompt');
  const seed = new Option('--seed <n>', 'random seed of the noise generator');
  if (required) {
    prompt.makeOptionMandatory();
    seed.makeOptionMandatory();
  }
  return cmd
    .addOption(prompt)
    .option('--negative-prompt <text>', 'negative prompt (used with guidance > 1)')
    .addOption(seed)
    .option('--steps <n>', `denoising steps (default ${DEFAULT_SETTINGS.steps})`)
    .option('--scheduler <name>', 'a short name (ddim, euler-a, dpmpp-2m, unipc, …), a diffusers class name or a web-UI name ("DPM++ 2M Karras", "Euler a", …); `lockstep schedulers` lists them (default: the model folder\'s own)')
    .option('--guidance <f>', `classifier-free guidance scale; ≤ 1 disables it (default ${DEFAULT_SETTINGS.guidanceScale})`)
    .option('--height <n>', `image height, a multiple of 8 (default ${DEFAULT_SETTINGS.height})`)
    .option('--width <n>', `image width, a multiple of 8 (default ${DEFAULT_SETTINGS.width})`)
    .addOption(new Option('--noise <generator>', 'initial-noise generator').choices(['torch-cpu', 'numpy-legacy']))
    .option('--pipeline <family>', `pipeline family: ${FAMILY_NAMES.join(' | ')} (default: detected from the model folder)`)
    .option('--image <png>', 'image-to-image: the input image (its size must be --width x --height)')
    .option('--strength <s>', 'image-to-image: how much of the schedule runs from the image, 0 < s ≤ 1 (default 0.8)');
}

/** Flag values over `base` (e.g. a trace's recorded settings) over the defaults. */
export function settingsFromFlags(v: PipelineFlagValues, base: Partial<PipelineSettings> = {}): PipelineSettings {
  const merged: PipelineSettings = {
    ...DEFAULT_SETTINGS,
    prompt: '',
    seed: 0,
    ...stripUndefined(base),
  };
  if (v.prompt !== undefined) merged.prompt = v.prompt;
  if (v.negativePrompt !== undefined) merged.negativePrompt = v.negativePrompt;
  if (v.seed !== undefined) merged.seed = parseSeed(v.seed);
  if (v.steps !== undefined) merged.steps = parseIntFlag('--steps', v.steps);
  if (v.scheduler !== undefined) merged.scheduler = v.scheduler;
  if (v.guidance !== undefined) merged.guidanceScale = parseNumberFlag('--guidance', v.guidance);
  if (v.height !== undefined) merged.height = parseIntFlag('--height', v.height);
  if (v.width !== undefined) merged.width = parseIntFlag('--width', v.width);
  if (v.noise !== undefined) merged.noise = v.noise as NoiseKind;
  if (v.pipeline !== undefined) merged.family = parseFamily(v.pipeline);
  if (v.image !== undefined) merged.image = v.image;
  if (v.strength !== undefined) merged.strength = parseNumberFlag('--strength', v.strength);
  if (merged.image !== undefined && merged.strength === undefined) merged.strength = DEFAULT_STRENGTH;
  return merged;
}

export function parseIntFlag(flag: string, value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be an integer, got '${value}'`);
  return n;
}

export function parseNumberFlag(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got '${value}'`);
  return n;
}

/** Seeds are validated by the generator (range per generator); here only integer-ness. */
function parseSeed(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--seed must be an integer, got '${value}'`);
  const n = Number(value);
  if (n < 0) throw new UsageError(`--seed must be ≥ 0, got ${value}`);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--seed ${value} is too large (at most ${Number.MAX_SAFE_INTEGER})`);
  return n;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
