/**
 * Everything the U-Net is conditioned on besides latents and timestep, as
 * each family's `encode_prompt` (and the pipeline around it) builds it:
 * prompt embeddings in the U-Net's batch order [uncond; cond], and the extra
 * inputs — LCM's guidance embedding (`timestep_cond`), SDXL's pooled text
 * embeddings (`text_embeds`) and size conditioning (`time_ids`).
 */
import { UsageError } from '../errors.ts';
import type { SdComponents, TextEncoderName, UnetExtras } from '../models/sd-model.ts';
import { type Tensor, concat0, int64, makeTensor } from '../tensor/tensor.ts';
import type { ClipTokenizer } from '../tokenizer/index.ts';
import { COND, TEXT } from '../trace/names.ts';
import type { Family } from './family.ts';
import { guidanceScaleEmbedding } from './guidance-embedding.ts';
import type { PipelineModel } from './run.ts';
import type { PipelineSettings } from './settings.ts';

export interface Conditioning {
  /** encoder_hidden_states, [uncond; cond] when classifier-free. */
  promptEmbeds: Tensor<'float32'>;
  extras: UnetExtras;
  /** SDXL: each text encoder's hidden size, where promptEmbeds' last axis splits between them. */
  encoderWidths?: [number, number];
}

export interface EncodeContext {
  model: PipelineModel;
  settings: PipelineSettings;
  guided: boolean;
  emit(name: string, t: Tensor): void;
  warn(message: string): void;
}

export async function encodeConditioning(ctx: EncodeContext): Promise<Conditioning> {
  const family = ctx.model.family;
  const { promptEmbeds, extras, encoderWidths } = family.dualTextEncoders ? await encodeDual(ctx) : { promptEmbeds: await encodeSingle(ctx), extras: {} as UnetExtras, encoderWidths: undefined };
  ctx.emit(TEXT.promptEmbeds, promptEmbeds);
  const dim = ctx.model.unetConfig.timeCondProjDim;
  if (dim !== null) {
    // Every family feeds it when the U-Net has time_cond_proj_dim (diffusers' SD and SDXL pipelines too).
    extras.timestep_cond = guidanceScaleEmbedding(ctx.settings.guidanceScale, dim, 1);
  }
  for (const [name, t] of Object.entries(extras)) ctx.emit(`${COND_PREFIX}${name}`, t);
  return { promptEmbeds, extras, ...(encoderWidths ? { encoderWidths } : {}) };
}

const COND_PREFIX = COND.timestepCond.slice(0, COND.timestepCond.indexOf('/') + 1);

/** SD 1.x/2.x and LCM: last_hidden_state of the one text encoder; [uncond; cond] when guided. */
async function encodeSingle(ctx: EncodeContext): Promise<Tensor<'float32'>> {
  const { model, settings } = ctx;
  const cond = tokenize(ctx, model.tokenizer, settings.prompt, '--prompt');
  ctx.emit(TEXT.condIds, cond);
  const condEmbeds = await model.components.encodeText(cond);
  if (!ctx.guided) return condEmbeds;
  const uncond = tokenize(ctx, model.tokenizer, settings.negativePrompt, '--negative-prompt');
  ctx.emit(TEXT.uncondIds, uncond);
  return concat0([await model.components.encodeText(uncond), condEmbeds]);
}

export interface DualEncoding {
  /** Both encoders' penultimate hidden states, concatenated on the last axis. */
  embeds: Tensor<'float32'>;
  /** text_encoder_2's projected pooled output. */
  pooled: Tensor<'float32'>;
  /** Each encoder's hidden size: where `embeds` splits into text_encoder's and text_encoder_2's parts. */
  widths: [number, number];
}

/**
 * SDXL: each tokenizer/encoder pair gives its penultimate hidden state
 * (`hidden_states[-2]`), concatenated; the pooled embedding is text_encoder_2's
 * `text_embeds`. An empty negative prompt with force_zeros_for_empty_prompt
 * gives zeros instead of encoding "".
 */
async function encodeDual(ctx: EncodeContext): Promise<Conditioning> {
  const { settings } = ctx;
  const cond = await encodeBoth(ctx, settings.prompt, '--prompt', [TEXT.condIds, TEXT.condIds2]);
  const timeIds = sizeConditioning(settings.height, settings.width);
  const encoderWidths = cond.widths;
  if (!ctx.guided) return { promptEmbeds: cond.embeds, extras: { text_embeds: cond.pooled, time_ids: timeIds }, encoderWidths };
  const uncond = zeroNegative(ctx)
    ? { embeds: zerosLike(cond.embeds), pooled: zerosLike(cond.pooled) }
    : await encodeBoth(ctx, settings.negativePrompt, '--negative-prompt', [TEXT.uncondIds, TEXT.uncondIds2]);
  return {
    promptEmbeds: concat0([uncond.embeds, cond.embeds]),
    extras: { text_embeds: concat0([uncond.pooled, cond.pooled]), time_ids: concat0([timeIds, timeIds]) },
    encoderWidths,
  };
}

function zeroNegative(ctx: EncodeContext): boolean {
  const force = ctx.model.modelIndex.force_zeros_for_empty_prompt;
  return ctx.settings.negativePrompt === '' && force !== false;
}

async function encodeBoth(ctx: EncodeContext, text: string, flag: string, names: [string, string]): Promise<DualEncoding> {
  const { model } = ctx;
  const ids = [tokenize(ctx, model.tokenizer, text, flag), tokenize(ctx, model.tokenizer2!, text, flag)] as const;
  ctx.emit(names[0], ids[0]);
  ctx.emit(names[1], ids[1]);
  return encodePair(model.components, ids[0], ids[1]);
}

/** SDXL's two encoders on one prompt's token ids (also how the lockstep engine checks each encoder on the reference's ids). */
export async function encodePair(components: Pick<SdComponents, 'encodeTextOutputs'>, ids: Tensor<'int64'>, ids2: Tensor<'int64'>): Promise<DualEncoding> {
  const first = await components.encodeTextOutputs(ids, 'text_encoder');
  const second = await components.encodeTextOutputs(ids2, 'text_encoder_2');
  const hidden = [penultimate(first, 'text_encoder'), penultimate(second, 'text_encoder_2')];
  const pooled = second.text_embeds ?? second.pooler_output;
  return { embeds: concatLast(hidden), pooled, widths: [lastDim(hidden[0]), lastDim(hidden[1])] };
}

const lastDim = (t: Tensor): number => t.dims[t.dims.length - 1];

/** `hidden_states[-2]`: optimum names them hidden_states.0 … hidden_states.N. */
function penultimate(out: Record<string, Tensor<'float32'>>, encoder: TextEncoderName): Tensor<'float32'> {
  const indices = Object.keys(out)
    .map((k) => /^hidden_states\.(\d+)$/.exec(k)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
  if (indices.length < 2) {
    throw new UsageError(`${encoder}/model.onnx: the SDXL pipeline needs the text encoder's hidden states (outputs hidden_states.0 … hidden_states.N, as optimum exports them with output_hidden_states); the model outputs ${Object.keys(out).join(', ')}`);
  }
  return out[`hidden_states.${Math.max(...indices) - 1}`];
}

/** (original_size, crops_coords_top_left, target_size) = (H, W, 0, 0, H, W), float32. */
function sizeConditioning(height: number, width: number): Tensor<'float32'> {
  return makeTensor('float32', [1, 6], Float32Array.from([height, width, 0, 0, height, width]));
}

function tokenize(ctx: EncodeContext, tokenizer: ClipTokenizer, text: string, flag: string): Tensor<'int64'> {
  const encoded = tokenizer.encode(text);
  if (encoded.truncated) ctx.warn(`${flag} is longer than CLIP's 77 tokens (${encoded.tokenCount} tokens); it was truncated, as diffusers does`);
  return int64([1, encoded.ids.length], encoded.ids);
}

function zerosLike(t: Tensor<'float32'>): Tensor<'float32'> {
  return makeTensor('float32', t.dims, new Float32Array(t.data.length));
}

/** torch.concat(tensors, dim=-1). */
export function concatLast(parts: readonly Tensor<'float32'>[]): Tensor<'float32'> {
  const lead = parts[0].dims.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  const widths = parts.map((p) => p.dims[p.dims.length - 1]);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let offset = r * total;
    parts.forEach((p, k) => {
      out.set(p.data.subarray(r * widths[k], (r + 1) * widths[k]), offset);
      offset += widths[k];
    });
  }
  return makeTensor('float32', [...lead, total], out);
}
