/**
 * The exchange folder between lockstep and a runtime Node cannot drive:
 * `export-inputs` writes one folder per component call holding the exact
 * inputs the reference gave that component, and `manifest.json` listing each
 * call with the output file(s) the other runtime must write. `import-outputs`
 * reads those answers back. The manifest is the whole contract.
 */
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';

/**
 * 1.1 added the VAE encoder and SDXL's second text encoder (and SDXL's first encoder answering its
 * penultimate hidden state), answer widths left to the runtime (-1), `context` and `zeroNegative`.
 * Every 1.x manifest reads; one written by 1.0 has none of these.
 */
export const EXCHANGE_FORMAT = 'lockstep.exchange/1.1';
const READABLE_FORMAT = /^lockstep\.exchange\/1(\.\d+)?$/;
export const COMPONENTS = ['unet', 'text_encoder', 'text_encoder_2', 'vae_encoder', 'vae_decoder'] as const;
export type ExchangeComponent = (typeof COMPONENTS)[number];

/** Answers may come back in these dtypes; lockstep compares them as float32. */
export const ACCEPTED_OUTPUT_DTYPES = ['float32', 'float16', 'float64'] as const;

const fileSchema = z.object({ file: z.string(), dtype: z.string(), shape: z.array(z.number().int().nonnegative()) });
export type ExchangeFile = z.infer<typeof fileSchema>;

/** An answer's shape may leave a dimension to the runtime: -1 (an SDXL text encoder's hidden width). */
export const ANY_SIZE = -1;
const answerSchema = fileSchema.extend({ shape: z.array(z.number().int().gte(ANY_SIZE)) });

const callSchema = z.object({
  component: z.enum(COMPONENTS),
  /** What this call is in the run: "step 3", "text cond", "vae". */
  role: z.string(),
  step: z.number().int().optional(),
  /** text_encoder(_2) calls: which prompt ("cond" | "uncond"). */
  prompt: z.enum(['cond', 'uncond']).optional(),
  inputs: z.record(z.string(), fileSchema),
  outputs: z.record(z.string(), answerSchema),
});
export type ExchangeCall = z.infer<typeof callSchema>;

const manifestSchema = z
  .object({
    format: z.string().regex(READABLE_FORMAT, { error: `expected "${EXCHANGE_FORMAT}" (or an older lockstep.exchange/1.x)` }),
    reference: z.string(),
    components: z.array(z.enum(COMPONENTS)),
    pipeline: z.record(z.string(), z.unknown()),
    guided: z.boolean(),
    guidanceScale: z.number(),
    timesteps: z.array(z.number()),
    schedulerConfig: z.record(z.string(), z.unknown()).optional(),
    acceptedOutputDtypes: z.array(z.string()),
    calls: z.array(callSchema),
    /** Reference tensors import-outputs needs besides the answers (not to be answered): SDXL's prompt_embeds. */
    context: z.record(z.string(), fileSchema).optional(),
    /** SDXL guided with an empty negative prompt: its embeddings are zeros (force_zeros_for_empty_prompt), not encoded. */
    zeroNegative: z.boolean().optional(),
  })
  .loose();
export type ExchangeManifest = z.infer<typeof manifestSchema>;

export function readExchangeManifest(path: string): ExchangeManifest {
  const parsed = manifestSchema.safeParse(readPythonJson(path));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `${path}: not a lockstep export-inputs manifest (${EXCHANGE_FORMAT}): at '${issue.path.join('.') || '(root)'}': ${issue.message}`,
    );
  }
  return parsed.data;
}

/** `[1,77,any]`: a shape as the manifest gives it. */
export function specShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d === ANY_SIZE ? 'any' : String(d))).join(',')}]`;
}

/** Dims that fit a manifest shape (-1 takes any positive size). */
export function fitsShape(dims: readonly number[], shape: readonly number[]): boolean {
  return dims.length === shape.length && dims.every((d, i) => (shape[i] === ANY_SIZE ? d > 0 : d === shape[i]));
}

/** Parses `--component unet,text_encoder`. */
export function parseComponents(value: string, flag = '--component'): ExchangeComponent[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((c) => !(COMPONENTS as readonly string[]).includes(c));
  if (list.length === 0 || bad.length > 0) {
    throw new UsageError(`${flag}: unknown component '${bad[0] ?? value}' (expected a comma-separated list of ${COMPONENTS.join(', ')})`);
  }
  return [...new Set(list)] as ExchangeComponent[];
}
