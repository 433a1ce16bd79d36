/**
 * Text-encoder calls of a reference trace. SD 1.x/2.x and LCM: the one encoder's
 * `last_hidden_state` is the prompt embedding. SDXL: each encoder's penultimate
 * hidden state (`hidden_states[-2]`) is one part of prompt_embeds (concatenated
 * on the last axis) and text_encoder_2's `text_embeds` is the pooled embedding.
 * Where prompt_embeds splits between the two encoders is the trace's
 * `textEncoderWidths` when it has one (lockstep's traces); diffusers' traces do
 * not say, so the answers' widths are left to the runtime (-1). import-outputs
 * checks they add up, and fills an encoder not exported from the reference's
 * own prompt_embeds (exported as context).
 */
import { UsageError } from '../errors.ts';
import { COND, TEXT } from '../trace/names.ts';
import type { TraceReader } from '../trace/reader.ts';
import { type CallWriter, need, needFloat } from './call-writer.ts';
import { ANY_SIZE } from './format.ts';

export type TextEncoder = 'text_encoder' | 'text_encoder_2';
type Prompt = 'cond' | 'uncond';

/** Output names of an SDXL encoder's answer. */
export const PENULTIMATE = 'penultimate_hidden_state';
export const POOLED = 'text_embeds';
/** The context file holding the reference's prompt_embeds (SDXL). */
export const PROMPT_EMBEDS_CONTEXT = 'prompt_embeds';

const IDS: Record<TextEncoder, Record<Prompt, string>> = {
  text_encoder: { cond: TEXT.condIds, uncond: TEXT.uncondIds },
  text_encoder_2: { cond: TEXT.condIds2, uncond: TEXT.uncondIds2 },
};
/** Folder of each encoder's calls in the exchange (inputs and answers alike). */
export const TEXT_DIRS: Record<TextEncoder, string> = { text_encoder: 'text', text_encoder_2: 'text_2' };

const ENCODER_INDEX: Record<TextEncoder, 0 | 1> = { text_encoder: 0, text_encoder_2: 1 };

export function idsTraceName(encoder: TextEncoder, prompt: Prompt): string {
  return IDS[encoder][prompt];
}

/** SDXL's two-encoder text side (trace 1.1: the second tokenizer's ids, or the family says so). */
export function hasDualText(reader: TraceReader): boolean {
  return reader.manifest.pipeline.family === 'sdxl' || reader.has(TEXT.condIds2);
}

export function exportTextEncoder(reader: TraceReader, writer: CallWriter, guided: boolean, encoder: TextEncoder): void {
  if (hasDualText(reader)) return exportDual(reader, writer, guided, encoder);
  if (encoder === 'text_encoder_2') {
    throw new UsageError(`${reader.dir}: text_encoder_2 is SDXL's second text encoder; this trace is not SDXL's (no ${TEXT.condIds2}.npy, pipeline.family ${String(reader.manifest.pipeline.family ?? 'absent')})`);
  }
  exportSingle(reader, writer, guided);
}

function exportSingle(reader: TraceReader, writer: CallWriter, guided: boolean): void {
  const hidden = reader.get(TEXT.promptEmbeds)?.dims.at(-1);
  if (hidden === undefined) throw new UsageError(`${reader.dir}: trace has no ${TEXT.promptEmbeds}.npy, needed for the text encoder's output shape`);
  const prompts: Prompt[] = guided ? ['uncond', 'cond'] : ['cond'];
  for (const prompt of prompts) {
    const ids = need(reader, IDS.text_encoder[prompt], 'the text encoder input input_ids');
    writer.add(
      { component: 'text_encoder', role: `text ${prompt}`, prompt },
      `${TEXT_DIRS.text_encoder}/${prompt}`,
      { input_ids: ids },
      { last_hidden_state: { dims: [ids.dims[0], ids.dims[1], hidden] } },
    );
  }
}

function exportDual(reader: TraceReader, writer: CallWriter, guided: boolean, encoder: TextEncoder): void {
  writer.addContext(PROMPT_EMBEDS_CONTEXT, `${TEXT.promptEmbeds}.npy`, needFloat(reader, TEXT.promptEmbeds, "the reference's prompt embeddings, which import-outputs needs"));
  // diffusers' force_zeros_for_empty_prompt: the negative's embeddings are zeros and no ids were recorded.
  const zeroNegative = guided && !reader.has(TEXT.uncondIds);
  writer.zeroNegative = zeroNegative;
  // lockstep's own SDXL traces record where prompt_embeds split; diffusers' do not (then any width, checked at import).
  const widths = reader.manifest.textEncoderWidths;
  const pooledWidth = encoder === 'text_encoder_2' ? needFloat(reader, COND.textEmbeds, 'the pooled embeddings, whose width text_encoder_2 answers').dims.at(-1)! : 0;
  const prompts: Prompt[] = guided && !zeroNegative ? ['uncond', 'cond'] : ['cond'];
  for (const prompt of prompts) {
    const ids = need(reader, IDS[encoder][prompt], `the ${encoder} input input_ids`);
    const [batch, tokens] = ids.dims;
    const outputs: Record<string, { dims: number[] }> = { [PENULTIMATE]: { dims: [batch, tokens, widths?.[ENCODER_INDEX[encoder]] ?? ANY_SIZE] } };
    if (encoder === 'text_encoder_2') outputs[POOLED] = { dims: [batch, pooledWidth] };
    writer.add({ component: encoder, role: `${encoder === 'text_encoder' ? 'text' : 'text_2'} ${prompt}`, prompt }, `${TEXT_DIRS[encoder]}/${prompt}`, { input_ids: ids }, outputs);
  }
}
