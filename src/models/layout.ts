/**
 * The diffusers/optimum ONNX folder layout:
 *   model_index.json, tokenizer/, scheduler/scheduler_config.json,
 *   text_encoder/model.onnx, unet/model.onnx (+ external data), vae_decoder/model.onnx
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';
import type { ComponentName } from './component.ts';

export interface ModelLayout {
  dir: string;
  tokenizerDir: string;
  schedulerConfigFile: string;
  onnx: Record<ComponentName, string>;
  /** `scaling_factor` from the VAE config (SD 1.x: 0.18215); the pipeline divides latents by it. */
  vaeScalingFactor: number;
  /** 2^(len(block_out_channels)-1): the image is this many times larger than the latents. */
  vaeScaleFactor: number;
  /** U-Net `in_channels` (4 for SD 1.x/2.x). */
  latentChannels: number;
}

const COMPONENTS: ComponentName[] = ['text_encoder', 'unet', 'vae_decoder'];

export function readModelLayout(dirArg: string): ModelLayout {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dirArg}: model folder not found`);
  const onnx = {} as Record<ComponentName, string>;
  for (const c of COMPONENTS) onnx[c] = requireFile(dir, join(c, 'model.onnx'), `the ${c} component`);
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
    vaeScalingFactor: typeof vae.scaling_factor === 'number' ? vae.scaling_factor : 0.18215,
    vaeScaleFactor: 2 ** (blocks - 1),
    latentChannels: typeof unet.in_channels === 'number' ? unet.in_channels : 4,
  };
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
