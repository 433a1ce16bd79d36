/** Opens a model folder as a PipelineModel: ORT sessions, its pipeline family, tokenizer(s), scheduler config. */
import type { BackendOptions } from '../models/backend.ts';
import { checkFits, estimateRunMemory, readModelFootprint } from '../models/memory-estimate.ts';
import { OnnxStableDiffusion } from '../models/sd-model.ts';
import { loadSchedulerConfig } from '../schedulers/index.ts';
import { loadClipTokenizer } from '../tokenizer/index.ts';
import { detectFamily } from './family.ts';
import type { PipelineModel } from './run.ts';
import { type PipelineSettings, validateSettings } from './settings.ts';

export interface LoadedModel extends PipelineModel {
  onnx: OnnxStableDiffusion;
}

/**
 * With `settings`, a run that cannot fit in the available memory is refused before any model is loaded,
 * and `settings.family` (`--pipeline`) forces the pipeline family; it is detected from the folder otherwise.
 */
export async function loadPipelineModel(dir: string, backend?: BackendOptions, settings?: PipelineSettings): Promise<LoadedModel> {
  if (settings) refuseWhatCannotFit(dir, settings);
  const onnx = await OnnxStableDiffusion.open(dir, backend);
  try {
    const { layout } = onnx;
    const family = detectFamily({ layout, unetInputs: onnx.unetInputNames() }, settings?.family || undefined);
    return {
      onnx,
      components: onnx,
      family,
      tokenizer: loadClipTokenizer(layout.tokenizerDir),
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

/** Estimates the run's memory (docs/memory-estimate.md) and refuses, naming the numbers, what cannot fit. */
export function refuseWhatCannotFit(dir: string, settings: PipelineSettings): void {
  const footprint = readModelFootprint(dir);
  checkFits(estimateRunMemory(footprint, validateSettings(settings, footprint.vaeScaleFactor)));
}
