/**
 * Whole-component checks, each on the reference's own inputs: the text
 * encoder(s) on the reference's token ids, the VAE encoder on the reference's
 * preprocessed image (image-to-image), the VAE decoder on the reference's
 * final latents. A live candidate computes its answer; a recorded one is used
 * when it answered the same inputs (or is an import-outputs trace, which holds
 * its answers to the reference's inputs).
 *
 * SDXL: the prompt embeddings are both encoders' penultimate hidden states
 * concatenated on the last axis, so `textEncoder` is text_encoder's part of
 * them and `textEncoder2` text_encoder_2's; `pooledEmbeds` is text_encoder_2's
 * pooled `text_embeds` (the U-Net's extra input), [uncond; cond] like the
 * embeddings. Where the two parts split is known to a live build and to a
 * trace whose manifest has `textEncoderWidths` (lockstep's own SDXL traces,
 * import-outputs); without either, `textEncoder` compares the whole prompt
 * embeddings.
 */
import { UsageError } from '../errors.ts';
import type { EncodedImage } from '../models/sd-model.ts';
import type { DualEncoding } from '../pipeline/conditioning.ts';
import type { ComponentChecks, MetricSet } from '../report/schema.ts';
import { type Tensor, concat0, makeTensor } from '../tensor/tensor.ts';
import { type Tolerances, compareOptional, identical } from './compare-step.ts';
import type { FinalTensors, LiveCompute, Side, TextTensors } from './sides.ts';

/** Says a thing about the run once (engine notes). */
export type Note = (key: string, message: string, step?: number) => void;

export type TextChecks = Pick<ComponentChecks, 'textEncoder' | 'textEncoder2' | 'pooledEmbeds'>;

export async function textChecks(cand: Side, refText: TextTensors, candText: TextTensors, tol: Tolerances, note: Note): Promise<TextChecks> {
  if (!refText.promptEmbeds) return { textEncoder: null, textEncoder2: null, pooledEmbeds: null };
  // A reference that did not record ids counts as the same ids: the candidate's own encoding is all there is.
  const sameIds = (['condIds', 'uncondIds', 'condIds2', 'uncondIds2'] as const).every((k) => (refText[k] ? identical(refText[k], candText[k]) : true));
  const recompute = cand.live !== null && !sameIds;
  if (!refText.condIds2 && !candText.condIds2) {
    const embeds = recompute ? await encodeIdsLikePipeline(cand.live!, refText) : candText.promptEmbeds;
    return { textEncoder: compareOptional(refText.promptEmbeds, embeds, 'prompt_embeds', tol('components', 'textEncoder')), textEncoder2: null, pooledEmbeds: null };
  }
  const encoded: Partial<DualEncoding> = recompute
    ? await encodeDualLikePipeline(cand.live!, refText, refText.promptEmbeds.dims[0])
    : { embeds: candText.promptEmbeds, pooled: candText.extras?.text_embeds, widths: candText.encoderWidths as [number, number] | undefined };
  const pooledEmbeds = compareOptional(refText.extras?.text_embeds, encoded.pooled, 'text_embeds (pooled)', tol('components', 'pooledEmbeds'));
  const widths = encoded.widths ?? candText.encoderWidths ?? refText.encoderWidths;
  if (!widths) {
    note('sdxl-text-split', "where SDXL's prompt embeddings split between the two text encoders is not known (two recorded builds, neither manifest has textEncoderWidths): components.textEncoder compares the whole prompt_embeds (both encoders), components.textEncoder2 is not checked");
    return { textEncoder: compareOptional(refText.promptEmbeds, encoded.embeds, 'prompt_embeds', tol('components', 'textEncoder')), textEncoder2: null, pooledEmbeds };
  }
  const [ref1, ref2] = splitLast(refText.promptEmbeds, widths, 'the reference');
  const [cand1, cand2] = encoded.embeds ? splitLast(encoded.embeds, widths, 'the candidate') : [undefined, undefined];
  return {
    textEncoder: compareOptional(ref1, cand1, 'prompt_embeds (text_encoder part)', tol('components', 'textEncoder')),
    textEncoder2: compareOptional(ref2, cand2, 'prompt_embeds (text_encoder_2 part)', tol('components', 'textEncoder2')),
    pooledEmbeds,
  };
}

/** [uncond; cond] ids encoded one prompt at a time, as diffusers does (one text encoder). */
async function encodeIdsLikePipeline(live: LiveCompute, text: TextTensors): Promise<Tensor<'float32'> | undefined> {
  if (!text.condIds) return undefined;
  const cond = await live.encodeText(text.condIds);
  if (!text.uncondIds) return cond;
  return concat0([await live.encodeText(text.uncondIds), cond]);
}

/**
 * SDXL's [uncond; cond] prompt and pooled embeddings from the reference's ids, as encodeDual builds them;
 * a guided reference without negative ids had force_zeros_for_empty_prompt: zeros.
 */
async function encodeDualLikePipeline(live: LiveCompute, text: TextTensors, batch: number): Promise<Partial<DualEncoding>> {
  if (!text.condIds || !text.condIds2) return {};
  const cond = await live.encodeTextPair(text.condIds, text.condIds2);
  if (batch === 1) return cond;
  const uncond = text.uncondIds && text.uncondIds2 ? await live.encodeTextPair(text.uncondIds, text.uncondIds2) : { embeds: zerosLike(cond.embeds), pooled: zerosLike(cond.pooled) };
  return { embeds: concat0([uncond.embeds, cond.embeds]), pooled: concat0([uncond.pooled, cond.pooled]), widths: cond.widths };
}

/** The two encoders' parts of SDXL prompt embeddings [B, 77, w1 + w2]. */
function splitLast(t: Tensor<'float32'>, [w1, w2]: readonly [number, number], who: string): [Tensor<'float32'>, Tensor<'float32'>] {
  const width = t.dims[t.dims.length - 1];
  if (width !== w1 + w2) {
    throw new UsageError(`text/prompt_embeds of ${who} is ${width} wide, but the text encoders' hidden states are ${w1} + ${w2} wide: the two builds' SDXL text encoders differ in size`);
  }
  const rows = t.data.length / width;
  const lead = t.dims.slice(0, -1);
  const parts = [new Float32Array(rows * w1), new Float32Array(rows * w2)];
  for (let r = 0; r < rows; r++) {
    parts[0].set(t.data.subarray(r * width, r * width + w1), r * w1);
    parts[1].set(t.data.subarray(r * width + w1, (r + 1) * width), r * w2);
  }
  return [makeTensor('float32', [...lead, w1], parts[0]), makeTensor('float32', [...lead, w2], parts[1])];
}

function zerosLike(t: Tensor<'float32'>): Tensor<'float32'> {
  return makeTensor('float32', t.dims, new Float32Array(t.data.length));
}

/**
 * Image-to-image: the candidate's VAE encoder on the reference's preprocessed image, against the
 * reference's encoder output (latent_parameters; latent_sample from exports that sample inside the graph).
 */
export async function vaeEncoderCheck(cand: Side, refPrep: TextTensors, candPrep: TextTensors, tol: Tolerances, note: Note): Promise<MetricSet | null> {
  const ref = refPrep.image;
  if (!ref?.input || !ref.encoded) return null;
  const answer = await candidateEncoding(cand, ref.input, candPrep);
  if (!answer) {
    note('vae-encoder', "the VAE encoder was not checked: the candidate is recorded and did not encode the reference's image/input");
    return null;
  }
  if (answer.kind !== ref.encoded.kind) {
    note('vae-encoder', `the VAE encoder was not checked: the reference's encoder outputs ${ref.encoded.kind}, the candidate's ${answer.kind} (different quantities); the image latents still feed step 0`);
    return null;
  }
  if (answer.kind === 'latent_sample') {
    note('vae-encoder-sample', "the VAE encoder outputs latent_sample, drawn inside its graph (an older optimum export): components.vaeEncoder compares the two graphs' own random samples, not only the encoders; if it fails alone, compare an export with latent_parameters");
  }
  return compareOptional(ref.encoded.tensor, answer.tensor, `vae encoder ${answer.kind}`, tol('components', 'vaeEncoder'));
}

async function candidateEncoding(cand: Side, input: Tensor<'float32'>, candPrep: TextTensors): Promise<EncodedImage | undefined> {
  const own = candPrep.image;
  // Its own answer serves when it answered the same image (an import-outputs trace answered the reference's).
  if (own?.encoded && (cand.recordsTeacherForced || identical(own.input, input))) return own.encoded;
  return cand.live ? cand.live.encodeImage(input) : undefined;
}

export async function vaeDecoderCheck(cand: Side, rf: FinalTensors, cf: FinalTensors, tol: Tolerances): Promise<MetricSet | null> {
  const vaeTol = tol('components', 'vaeDecoder');
  // An import-outputs trace's final/decoded is its VAE's answer to the reference's final latents.
  if (cand.recordsTeacherForced) return compareOptional(rf.decoded, (await cand.finish()).decoded, 'vae decoder output', vaeTol);
  if (!rf.latents || !rf.decoded || !cand.live) return null;
  const decoded = identical(rf.latents, cf.latents) && cf.decoded ? cf.decoded : await cand.live.decode(rf.latents);
  return compareOptional(rf.decoded, decoded, 'vae decoder output', vaeTol);
}
