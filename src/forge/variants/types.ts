/** What every variant kind implements, and what it reports about itself. */
import type { ModelProto } from '../graph.ts';

import type { ComponentName } from '../../models/component.ts';

export type { ComponentName };
/** Every component a family's export may have; a variant transforms those the source folder has. */
export const ALL_COMPONENTS: readonly ComponentName[] = ['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder'];

/** Per component: what the transform touched (variant.json `components`). */
export interface TouchCount {
  /** Initializers / Constant tensors changed or added. */
  weights: number;
  /** Nodes changed or inserted. */
  nodes: number;
  /** Kind-specific extras (layer names, calibrated ranges count, …). */
  details?: Record<string, unknown>;
}

export interface ComponentInput {
  component: ComponentName;
  model: ModelProto;
  /** The source component's model.onnx (for messages). */
  file: string;
  /** The source model folder. */
  modelDir: string;
}

export interface VariantKind {
  /** As written on the command line: `fp16`, `prune-50`, `fault:softmax-fp16`, … */
  kind: string;
  /** Settings recorded in variant.json. */
  parameters: Record<string, unknown>;
  /** Components transformed when --components is not given. */
  defaultComponents: readonly ComponentName[];
  /** Caveats recorded in variant.json (e.g. CPU fp16 understates GPU fp16 error). */
  notes: string[];
  /** Edits `input.model` in place; throws UsageError when the kind does not apply. */
  apply(input: ComponentInput): TouchCount | Promise<TouchCount>;
}
