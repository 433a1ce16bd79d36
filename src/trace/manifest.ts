/** The trace manifest (TRACE_FORMAT.md), validated with zod so errors name the key. */
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { TRACE_MAJOR } from './names.ts';

export const fileEntrySchema = z.object({ dtype: z.string(), shape: z.array(z.number().int().nonnegative()) });

export const manifestSchema = z
  .object({
    format: z.string(),
    producer: z.string().optional(),
    pipeline: z
      .object({
        prompt: z.string().optional(),
        negativePrompt: z.string().nullish(),
        seed: z.number().int().optional(),
        noise: z.string().optional(),
        steps: z.number().int().optional(),
        scheduler: z.string().optional(),
        guidanceScale: z.number().nullish(),
        height: z.number().int().optional(),
        width: z.number().int().optional(),
      })
      .loose(),
    schedulerConfig: z.record(z.string(), z.unknown()).optional(),
    schedulerClass: z.string().optional(),
    timesteps: z.array(z.number()).optional(),
    /** SDXL: where prompt_embeds' last axis splits between text_encoder's and text_encoder_2's hidden states. */
    textEncoderWidths: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
    files: z.record(z.string(), fileEntrySchema).default({}),
  })
  .loose();

export type TraceManifest = z.infer<typeof manifestSchema>;

export function validateManifest(value: unknown, file: string): TraceManifest {
  const format = (value as { format?: unknown } | null)?.format;
  if (typeof format === 'string') checkFormat(format, file);
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file}: invalid trace manifest at '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}

function checkFormat(format: string, file: string): void {
  const m = /^lockstep\.trace\/(\d+)(?:\.\d+)?$/.exec(format);
  if (!m) throw new UsageError(`${file}: 'format' is '${format}', expected 'lockstep.trace/${TRACE_MAJOR}'`);
  if (Number(m[1]) !== TRACE_MAJOR) {
    throw new UsageError(`${file}: trace format major version ${m[1]} is not supported by this lockstep (reads lockstep.trace/${TRACE_MAJOR}); upgrade lockstep`);
  }
}
