/** Opens a model folder as a PipelineModel: ORT sessions, its pipeline family, tokenizer(s), scheduler config. */
import type { BackendOptions } from '../models/backend.ts';
import { checkFits, estimateRunMemory, readModelFootprint } from '../models/memory-estimate.ts';
import { OnnxStableDiffusion } from '../models/sd-model.ts';
import { loadSchedulerConfig } from '../schedulers/index.ts';
import { loadClipTokenizer } from '../tokenizer/index.ts';
import { detectFamily } from './family.ts';
import type { PipelineModel } from './run.ts';
import { type PipelineSettings, usesGuidance, validateSettings } from './settings.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';

export interface LoadedModel extends PipelineModel {
  onnx: OnnxStableDiffusion;
}

/**
 * With `settings`, a run that cannot fit in the available memory is refused before any model is loaded,
 * and `settings.family` (`--pipeline`) forces the pipeline family; it is detected from the folder otherwise.
 */
export async function loadPipelineModel(dir: string, backend?: BackendOptions, settings?: PipelineSettings): Promise<LoadedModel> {
  if (settings) refuseWhatCannotFit(dir, settings);
  // Text-to-image never calls the VAE encoder: it opens when an image-to-image run first needs it.
  const onnx = await OnnxStableDiffusion.open(dir, backend, settings && !settings.image ? { deferred: ['vae_encoder'] } : {});
  try {
    const { layout } = onnx;
    const family = detectFamily({ layout, unetInputs: onnx.unetInputNames() }, settings?.family || undefined);
    const tokenizer = loadClipTokenizer(layout.tokenizerDir);
    checkTokenizerFits(onnx, tokenizer.maxLength, layout.tokenizerDir);
    if (settings && family.classifierFree && layout.unetConfig.timeCondProjDim === null) checkBatchFits(onnx, settings);
    return {
      onnx,
      components: onnx,
      family,
      tokenizer,
      tokenizer2: family.dualTextEncoders && layout.tokenizer2Dir ? loadClipTokenizer(layout.tokenizer2Dir) : null,
      schedulerConfig: loadSchedulerConfig(layout.schedulerConfigFile),
      modelIndex: layout.modelIndex,
      unetConfig: layout.unetConfig,
      vaeScalingFactor: layout.vaeScalingFactor,
      vaeScaleFactor: layout.vaeScaleFactor,
      latentChannels: layout.latentChannels,
    };
  } catch (err) {
    await onnx.release();
    throw err;
  }
}

/**
 * The tokenizer pads every prompt to its model_max_length: more positions than the text encoder has
 * would fail inside ORT with a broadcast error that names neither file.
 */
function checkTokenizerFits(onnx: OnnxStableDiffusion, maxLength: number, tokenizerDir: string): void {
  const declared = onnx.signatures().text_encoder?.inputs.find((i) => i.name === 'input_ids')?.shape[1];
  const configFile = join(onnx.layout.dir, 'text_encoder', 'config.json');
  const config = existsSync(configFile) ? (readPythonJson(configFile) as { max_position_embeddings?: unknown }).max_position_embeddings : undefined;
  const [positions, source] = typeof declared === 'number' ? [declared, `its input_ids is declared [batch, ${declared}]`] : typeof config === 'number' ? [config, `${configFile} max_position_embeddings ${config}`] : [undefined, ''];
  if (positions === undefined || maxLength <= positions) return;
  throw new UsageError(
    `${join(tokenizerDir, 'tokenizer_config.json')}: model_max_length ${maxLength} pads every prompt to ${maxLength} tokens, but the text encoder takes ${positions} positions (${source}); set model_max_length to ${positions}`,
  );
}

/** Classifier-free guidance runs the U-Net on [uncond; cond], a batch of 2: a U-Net exported with a static batch of 1 cannot take it. */
function checkBatchFits(onnx: OnnxStableDiffusion, settings: PipelineSettings): void {
  const sample = onnx.signatures().unet?.inputs.find((i) => i.name === 'sample');
  const batch = sample?.shape[0];
  if (typeof batch !== 'number' || batch >= 2 || !usesGuidance(settings)) return;
  throw new UsageError(
    `${onnx.layout.onnx.unet}: the U-Net input 'sample' has a static batch of ${batch}, but classifier-free guidance (--guidance ${settings.guidanceScale} > 1) ` +
      'runs the unconditional and the text prediction as one batch of 2; re-export the U-Net with a dynamic batch, or run without guidance (--guidance 1)',
  );
}

/** Estimates the run's memory (docs/memory-estimate.md) and refuses, naming the numbers, what cannot fit. */
export function refuseWhatCannotFit(dir: string, settings: PipelineSettings): void {
  const footprint = readModelFootprint(dir);
  checkFits(estimateRunMemory(footprint, validateSettings(settings, footprint.vaeScaleFactor)));
}
