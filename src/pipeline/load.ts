/** Opens a model folder as a PipelineModel: ORT sessions, tokenizer, scheduler config. */
import type { BackendOptions } from '../models/backend.ts';
import { checkFits, estimateRunMemory, readModelFootprint } from '../models/memory-estimate.ts';
import { OnnxStableDiffusion } from '../models/sd-model.ts';
import { loadSchedulerConfig } from '../schedulers/index.ts';
import { loadClipTokenizer } from '../tokenizer/index.ts';
import { type PipelineSettings, validateSettings } from './settings.ts';
import type { PipelineModel } from './text2img.ts';

export interface LoadedModel extends PipelineModel {
  onnx: OnnxStableDiffusion;
}

/** With `settings`, a run that cannot fit in the available memory is refused before any model is loaded. */
export async function loadPipelineModel(dir: string, backend?: BackendOptions, settings?: PipelineSettings): Promise<LoadedModel> {
  if (settings) refuseWhatCannotFit(dir, settings);
  const onnx = await OnnxStableDiffusion.open(dir, backend);
  const { layout } = onnx;
  return {
    onnx,
    components: onnx,
    tokenizer: loadClipTokenizer(layout.tokenizerDir),
    schedulerConfig: loadSchedulerConfig(layout.schedulerConfigFile),
    vaeScalingFactor: layout.vaeScalingFactor,
    vaeScaleFactor: layout.vaeScaleFactor,
    latentChannels: layout.latentChannels,
  };
}

/** Estimates the run's memory (docs/memory-estimate.md) and refuses, naming the numbers, what cannot fit. */
export function refuseWhatCannotFit(dir: string, settings: PipelineSettings): void {
  const footprint = readModelFootprint(dir);
  checkFits(estimateRunMemory(footprint, validateSettings(settings, footprint.vaeScaleFactor)));
}
