/**
 * The suite file format (docs/suites.md), as a zod schema. Strict objects
 * everywhere: an unknown key is an error naming it, so a typo never silently
 * turns a gate off. `suites/suite.schema.json` is generated from this schema.
 */
import { z } from 'zod';
import { OPT_LEVELS } from '../models/backend.ts';

const posInt = (what = 'a positive integer') =>
  z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const text = (what: string) => z.string({ error: `expected ${what}` });
/** Names become folder names under golden/ and reports/. */
const safeName = text('a name').regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
  error: 'expected a name of letters, digits, ".", "_" or "-" (it becomes a folder name)',
});
const imageSide = posInt('a positive multiple of 8').multipleOf(8, { error: 'expected a positive multiple of 8' });

/** Pipeline settings a case sets; `defaults` holds the same keys for every case. */
const settingsShape = {
  prompt: text('a string').optional(),
  negativePrompt: text('a string').optional(),
  seed: z.number({ error: 'expected a non-negative integer' }).int({ error: 'expected a non-negative integer' }).nonnegative({ error: 'expected a non-negative integer' }).optional(),
  steps: posInt().optional(),
  scheduler: text('a scheduler name (ddim, pndm, euler, ...)').optional(),
  guidance: z.number({ error: 'expected a number' }).optional(),
  height: imageSide.optional(),
  width: imageSide.optional(),
  noise: z.enum(['torch-cpu', 'numpy-legacy'], { error: 'expected "torch-cpu" or "numpy-legacy"' }).optional(),
  pipeline: z.enum(['sd', 'lcm', 'sdxl'], { error: 'expected "sd", "lcm" or "sdxl"' }).optional(),
  /** Image-to-image input (relative to the suite file) and strength. */
  image: text('an image path').min(1).optional(),
  strength: z.number({ error: 'expected a number' }).gt(0, { error: 'expected a number greater than 0 and at most 1' }).lte(1, { error: 'expected a number greater than 0 and at most 1' }).optional(),
};

export const variantSchema = z.strictObject({
  kind: text('a variant kind, e.g. int8-qdq, fp16, fault:<name>').min(1),
  // Every component a family's export may have (forge variant's ALL_COMPONENTS): a variant of just the VAE encoder or text_encoder_2 too.
  components: z.array(z.enum(['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder'])).optional(),
  /** int8-qdq calibration traces (relative to the suite file); default: a trace of the first case on the source model. */
  calibrate: z.array(text('a trace folder path')).optional(),
});

export const buildSchema = z
  .strictObject({
    model: text('a model folder path, "builtin:shapes" (trained), "builtin:tiny", "builtin:tiny?seed=N" or "builtin:tiny?preset=sd2&seed=N" (random weights; presets tiny, sd, sd2, … as `lockstep forge tiny --preset`)').min(1).optional(),
    trace: text('a trace folder path').min(1).optional(),
    golden: z.boolean({ error: 'expected true or false' }).optional(),
    variant: variantSchema.optional(),
    provider: z.union([text('a provider'), z.array(text('a provider')).min(1)], { error: 'expected a provider name or a list, e.g. cpu' }).optional(),
    optLevel: z.enum(OPT_LEVELS as [string, ...string[]], { error: `expected one of ${OPT_LEVELS.join(', ')}` }).optional(),
    threads: posInt().optional(),
    deterministic: z.boolean().optional(),
    /** ONNX Runtime memory options (docs/backends.md, "Memory"); defaults in DEFAULT_BACKEND. */
    memArena: z.boolean({ error: 'expected true or false' }).optional(),
    memPattern: z.boolean({ error: 'expected true or false' }).optional(),
    prepacking: z.boolean({ error: 'expected true or false' }).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.model === undefined) === (b.trace === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of "model" or "trace"' });
    }
    if (b.trace !== undefined && (b.variant || b.golden)) {
      ctx.addIssue({ code: 'custom', message: 'a trace build takes no "variant" or "golden" (they need a model)' });
    }
  });

export const caseSchema = z.strictObject({ name: safeName, ...settingsShape });

export const suiteSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: safeName,
    description: z.string().optional(),
    reference: buildSchema,
    candidate: buildSchema,
    defaults: z.strictObject(settingsShape).optional(),
    cases: z.array(caseSchema).min(1, { error: 'expected at least one case' }),
    gates: z.array(text('a gate string "<key> <op> <value>"')).optional(),
    thresholds: text('a thresholds JSON file path').optional(),
    /** Compare against an incomplete reference trace instead of refusing it (the reports are then complete: false and never pass). */
    allowPartialReference: z.boolean({ error: 'expected true or false' }).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.candidate.golden) ctx.addIssue({ code: 'custom', path: ['candidate', 'golden'], message: 'only the reference can be a golden' });
    const seen = new Set<string>();
    s.cases.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['cases', i, 'name'], message: `duplicate case name "${c.name}"` });
      seen.add(c.name);
    });
  });

export type SuiteFile = z.infer<typeof suiteSchema>;
export type BuildDecl = z.infer<typeof buildSchema>;
export type CaseDecl = z.infer<typeof caseSchema>;
export type CaseSettingsDecl = z.infer<typeof caseSchema>;

/** The JSON Schema editors use (suites/suite.schema.json). */
export function suiteJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(suiteSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://lockstep.dev/suite.schema.json', title: 'lockstep suite' };
}
