/**
 * The text side of import-outputs: the answers of the text-encoder calls turned
 * into the trace tensors the engine compares — `text/prompt_embeds` (and SDXL's
 * pooled `cond/text_embeds`) in the U-Net's batch order [uncond; cond], plus the
 * token ids each call was given. SDXL's prompt_embeds are assembled as the
 * pipeline does (penultimate hidden states side by side); an encoder that was not
 * exported keeps the reference's part, so only the answered encoder can differ.
 */
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { concatLast } from '../pipeline/conditioning.ts';
import { type Tensor, concat0, makeTensor, shapeString, slice0 } from '../tensor/tensor.ts';
import { COND, TEXT } from '../trace/names.ts';
import { type TextEncoder, PENULTIMATE, POOLED, PROMPT_EMBEDS_CONTEXT, idsTraceName } from './export-text.ts';
import type { ExchangeCall, ExchangeManifest } from './format.ts';
import { readContext, readInput } from './read-exchange.ts';

export interface Answered {
  call: ExchangeCall;
  out: Record<string, Tensor<'float32'>>;
}

type Prompt = 'cond' | 'uncond';

export interface ImportedText {
  tensors: [string, Tensor][];
  /** SDXL: how many prompt_embeds features each encoder gave (the trace does not say otherwise). */
  widths?: Record<TextEncoder, number>;
}

interface Dirs {
  inputs: string;
  outputs: string;
}

export function importText(answers: readonly Answered[], m: ExchangeManifest, dirs: Dirs): ImportedText {
  const text = answers.filter((a) => a.call.component === 'text_encoder' || a.call.component === 'text_encoder_2');
  if (text.length === 0) return { tensors: [] };
  const ids: [string, Tensor][] = text.map((a) => [idsTraceName(a.call.component as TextEncoder, promptOf(a.call)), readInput(a.call, 'input_ids', dirs.inputs)]);
  const dual = text.some((a) => PENULTIMATE in a.out);
  const imported = dual ? importDual(text, m, dirs) : importSingle(text);
  return { ...imported, tensors: [...ids, ...imported.tensors] };
}

function promptOf(call: ExchangeCall): Prompt {
  return call.prompt ?? 'cond';
}

/** One encoder: its last_hidden_state is the embedding, [uncond; cond]. */
function importSingle(text: readonly Answered[]): ImportedText {
  const of = (p: Prompt) => text.find((a) => promptOf(a.call) === p)?.out.last_hidden_state;
  const [uncond, cond] = [of('uncond'), of('cond')];
  if (!cond) return { tensors: [] };
  return { tensors: [[TEXT.promptEmbeds, uncond ? concat0([uncond, cond]) : cond]] };
}

function importDual(text: readonly Answered[], m: ExchangeManifest, dirs: Dirs): ImportedText {
  const reference = readContext(m, PROMPT_EMBEDS_CONTEXT, dirs.inputs);
  const prompts: Prompt[] = m.guided ? ['uncond', 'cond'] : ['cond'];
  if (reference.dims[0] !== prompts.length) {
    throw new UsageError(`${join(dirs.inputs, m.context![PROMPT_EMBEDS_CONTEXT].file)}: holds ${shapeString(reference.dims)}, but the run is ${m.guided ? 'guided (batch 2)' : 'unguided (batch 1)'}`);
  }
  const answer = (encoder: TextEncoder, p: Prompt) => text.find((a) => a.call.component === encoder && promptOf(a.call) === p);
  const widths = splitWidths(text, reference.dims.at(-1)!, dirs.outputs, join(dirs.inputs, m.context![PROMPT_EMBEDS_CONTEXT].file));
  const negativeIsZero = (p: Prompt) => p === 'uncond' && m.zeroNegative === true;
  const embeds = prompts.map((p, row) => {
    if (negativeIsZero(p)) return slice0(reference, row);
    const ref = slice0(reference, row);
    const first = answer('text_encoder', p)?.out[PENULTIMATE] ?? sliceLast(ref, 0, widths.text_encoder);
    const second = answer('text_encoder_2', p)?.out[PENULTIMATE] ?? sliceLast(ref, widths.text_encoder, reference.dims.at(-1)!);
    return concatLast([first, second]);
  });
  const tensors: [string, Tensor][] = [[TEXT.promptEmbeds, concat0(embeds)]];
  const pooled = prompts.map((p) => answer('text_encoder_2', p)?.out[POOLED]);
  const cond = pooled.at(-1);
  if (cond) tensors.push([COND.textEmbeds, concat0(pooled.map((t) => t ?? zeros(cond.dims)))]);
  return { tensors, widths };
}

/**
 * Each encoder's width: what it answered (the same for every prompt), or what the reference's
 * prompt_embeds leave for it; the two must add up to the reference's width.
 */
function splitWidths(text: readonly Answered[], total: number, outputsDir: string, contextFile: string): Record<TextEncoder, number> {
  const answered = (encoder: TextEncoder) => {
    const calls = text.filter((a) => a.call.component === encoder);
    const widths = calls.map((a) => a.out[PENULTIMATE].dims.at(-1)!);
    const file = (i: number) => join(outputsDir, calls[i].call.outputs[PENULTIMATE].file);
    const odd = widths.findIndex((w) => w !== widths[0]);
    if (odd > 0) throw new UsageError(`${file(odd)}: ${widths[odd]} features, but ${file(0)} has ${widths[0]}; one encoder answers one width`);
    return widths.length > 0 ? { width: widths[0], file: file(0) } : null;
  };
  const [a, b] = [answered('text_encoder'), answered('text_encoder_2')];
  const why = `SDXL's prompt_embeds are the two encoders' penultimate hidden states side by side, ${total} features in the reference (${contextFile})`;
  if (a && b && a.width + b.width !== total) {
    throw new UsageError(`${b.file}: ${b.width} features, and ${a.file} ${a.width}; ${why}: the widths must add up to ${total}`);
  }
  const one = a ?? b!;
  if (one.width >= total) throw new UsageError(`${one.file}: ${one.width} features leave none for the other encoder; ${why}`);
  const first = a ? a.width : total - b!.width;
  return { text_encoder: first, text_encoder_2: total - first };
}

/** t[..., from:to] */
function sliceLast(t: Tensor<'float32'>, from: number, to: number): Tensor<'float32'> {
  const width = t.dims.at(-1)!;
  const rows = t.data.length / width;
  const out = new Float32Array(rows * (to - from));
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * width + from, r * width + to), r * (to - from));
  return makeTensor('float32', [...t.dims.slice(0, -1), to - from], out);
}

function zeros(dims: readonly number[]): Tensor<'float32'> {
  return makeTensor('float32', dims, new Float32Array(dims.reduce((x, y) => x * y, 1)));
}
