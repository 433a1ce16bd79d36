/**
 * The diffusers/optimum ONNX folder layout:
 *   model_index.json, tokenizer/, scheduler/scheduler_config.json,
 *   text_encoder/model.onnx, unet/model.onnx (+ external data), vae_decoder/model.onnx,
 *   and when the export has them: vae_encoder/model.onnx, text_encoder_2/model.onnx + tokenizer_2/ (SDXL).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';
import { type ComponentName, OPTIONAL_COMPONENTS, REQUIRED_COMPONENTS } from './component.ts';

/** What the pipeline families read from unet/config.json. */
export interface UnetConfig {
  /** LCM-distilled U-Nets: the guidance-scale embedding's width (diffusers feeds it as `timestep_cond`). */
  timeCondProjDim: number | null;
  /** SDXL: "text_time" (pooled text embeddings and time ids as extra inputs). */
  additionEmbedType: string | null;
}

export interface ModelLayout {
  dir: string;
  tokenizerDir: string;
  schedulerConfigFile: string;
  /** Model files of the components present (text_encoder, unet and vae_decoder always are). */
  onnx: Partial<Record<ComponentName, string>> & Record<(typeof REQUIRED_COMPONENTS)[number], string>;
  /** tokenizer_2/ when the folder has one (SDXL). */
  tokenizer2Dir: string | null;
  /** model_index.json, or {} when the folder has none. */
  modelIndex: Record<string, unknown>;
  unetConfig: UnetConfig;
  /** `scaling_factor` from the VAE config (SD 1.x: 0.18215); the pipeline divides latents by it. */
  vaeScalingFactor: number;
  /** 2^(len(block_out_channels)-1): the image is this many times larger than the latents. */
  vaeScaleFactor: number;
  /** U-Net `in_channels` (4 for SD 1.x/2.x). */
  latentChannels: number;
}

export function readModelLayout(dirArg: string): ModelLayout {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dirArg}: model folder not found`);
  const modelIndex = readConfig(join(dir, 'model_index.json'));
  refuseRefiner(dir, modelIndex);
  const onnx = {} as ModelLayout['onnx'];
  for (const c of REQUIRED_COMPONENTS) onnx[c] = requireFile(dir, join(c, 'model.onnx'), `the ${c} component`);
  for (const c of OPTIONAL_COMPONENTS) if (existsSync(join(dir, c, 'model.onnx'))) onnx[c] = join(dir, c, 'model.onnx');
  const tokenizer2Dir = existsSync(join(dir, 'tokenizer_2', 'vocab.json')) ? join(dir, 'tokenizer_2') : null;
  const tokenizerDir = join(dir, 'tokenizer');
  requireFile(dir, join('tokenizer', 'vocab.json'), 'the CLIP tokenizer');
  const schedulerConfigFile = requireFile(dir, join('scheduler', 'scheduler_config.json'), 'the scheduler config');
  const vae = readConfig(join(dir, 'vae_decoder', 'config.json'));
  const unet = readConfig(join(dir, 'unet', 'config.json'));
  const blocks = Array.isArray(vae.block_out_channels) ? vae.block_out_channels.length : 4;
  return {
    dir,
    tokenizerDir,
    schedulerConfigFile,
    onnx,
    tokenizer2Dir,
    modelIndex,
    unetConfig: {
      timeCondProjDim: typeof unet.time_cond_proj_dim === 'number' ? unet.time_cond_proj_dim : null,
      additionEmbedType: typeof unet.addition_embed_type === 'string' ? unet.addition_embed_type : null,
    },
    vaeScalingFactor: typeof vae.scaling_factor === 'number' ? vae.scaling_factor : 0.18215,
    vaeScaleFactor: 2 ** (blocks - 1),
    latentChannels: typeof unet.in_channels === 'number' ? unet.in_channels : 4,
  };
}

/**
 * The SDXL refiner (model_index.json `requires_aesthetics_score: true`) conditions its U-Net on an aesthetic score
 * (5 time ids, not the base model's 6) and has no first text encoder: lockstep runs the base path only, so it
 * is refused here, naming why, rather than fed the base model's time ids or reported as missing text_encoder/.
 */
function refuseRefiner(dir: string, modelIndex: Record<string, unknown>): void {
  if (modelIndex.requires_aesthetics_score !== true) return;
  throw new UsageError(
    `${join(dir, 'model_index.json')}: requires_aesthetics_score is true — an SDXL refiner (aesthetic-score time_ids, text_encoder_2 only); lockstep runs the SDXL base pipeline, not the refiner`,
  );
}

export function isModelFolder(dir: string): boolean {
  return existsSync(join(dir, 'unet', 'model.onnx')) || existsSync(join(dir, 'model_index.json'));
}

function requireFile(dir: string, rel: string, what: string): string {
  const p = join(dir, rel);
  if (!existsSync(p)) {
    throw new UsageError(`${dir}: missing ${rel} (${what}); expected the diffusers/optimum ONNX layout with text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/`);
  }
  return p;
}

/** Component config.json files are optional in hand-made exports; defaults are SD 1.x's. */
function readConfig(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  const value = readPythonJson(file);
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
