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

export const EXCHANGE_FORMAT = 'lockstep.exchange/1';
export const COMPONENTS = ['unet', 'text_encoder', 'vae_decoder'] as const;
export type ExchangeComponent = (typeof COMPONENTS)[number];

/** Answers may come back in these dtypes; lockstep compares them as float32. */
export const ACCEPTED_OUTPUT_DTYPES = ['float32', 'float16', 'float64'] as const;

const fileSchema = z.object({ file: z.string(), dtype: z.string(), shape: z.array(z.number().int().nonnegative()) });
export type ExchangeFile = z.infer<typeof fileSchema>;

const callSchema = z.object({
  component: z.enum(COMPONENTS),
  /** What this call is in the run: "step 3", "text cond", "vae". */
  role: z.string(),
  step: z.number().int().optional(),
  /** text_encoder calls: which prompt ("cond" | "uncond"). */
  prompt: z.enum(['cond', 'uncond']).optional(),
  inputs: z.record(z.string(), fileSchema),
  outputs: z.record(z.string(), fileSchema),
});
export type ExchangeCall = z.infer<typeof callSchema>;

const manifestSchema = z
  .object({
    format: z.literal(EXCHANGE_FORMAT),
    reference: z.string(),
    components: z.array(z.enum(COMPONENTS)),
    pipeline: z.record(z.string(), z.unknown()),
    guided: z.boolean(),
    guidanceScale: z.number(),
    timesteps: z.array(z.number()),
    schedulerConfig: z.record(z.string(), z.unknown()).optional(),
    acceptedOutputDtypes: z.array(z.string()),
    calls: z.array(callSchema),
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

/** Parses `--component unet,text_encoder`. */
export function parseComponents(value: string, flag = '--component'): ExchangeComponent[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((c) => !(COMPONENTS as readonly string[]).includes(c));
  if (list.length === 0 || bad.length > 0) {
    throw new UsageError(`${flag}: unknown component '${bad[0] ?? value}' (expected a comma-separated list of ${COMPONENTS.join(', ')})`);
  }
  return [...new Set(list)] as ExchangeComponent[];
}
