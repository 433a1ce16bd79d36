/** Opens a model folder as a PipelineModel: ORT sessions, tokenizer, scheduler config. */
import type { BackendOptions } from '../models/backend.ts';
import { OnnxStableDiffusion } from '../models/sd-model.ts';
import { loadSchedulerConfig } from '../schedulers/index.ts';
import { loadClipTokenizer } from '../tokenizer/index.ts';
import type { PipelineModel } from './text2img.ts';

export interface LoadedModel extends PipelineModel {
  onnx: OnnxStableDiffusion;
}

export async function loadPipelineModel(dir: string, backend?: BackendOptions): Promise<LoadedModel> {
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
