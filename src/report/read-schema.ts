/**
 * Validating reader for report.json (zod). Numbers that may be non-finite
 * accept the encoded strings "Infinity"/"-Infinity"/"NaN" and the bare
 * tokens Python's json writes, and decode them back to numbers. Objects are
 * loose: keys added by a newer minor version pass through untouched.
 */
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import {
  COMPONENT_CHECKS,
  FREE_RUNNING_TENSORS,
  REPORT_SCHEMA,
  REPORT_SCHEMA_MAJOR,
  TEACHER_FORCED_TENSORS,
  type ReportDocument,
  type ReportSchemaVersion,
} from './schema.ts';

const ENCODED: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

/** Any number, including non-finite ones written as strings. */
const num = z
  .custom<number | string>(
    (v) => typeof v === 'number' || (typeof v === 'string' && v in ENCODED),
    'expected a number (or "Infinity", "-Infinity", "NaN")',
  )
  .transform((v) => (typeof v === 'number' ? v : ENCODED[v]));
const int = z.number().int();

const metricSet = z.looseObject({
  cosine: num,
  l1: num,
  maxAbs: num,
  maxAbsIndex: z.array(int),
  rmse: num,
  relL2: num,
  sqnr: num,
  nanCount: z.object({ reference: int, candidate: int }),
  infCount: z.object({ reference: int, candidate: int }),
  nonFiniteMismatches: int.optional(),
  count: int,
  // 1.1: error statistics (absent in 1.0 reports).
  absErrQuantiles: z.object({ p50: num, p90: num, p99: num, p999: num }).optional(),
  allclose: z.object({ atol: num, rtol: num, mismatched: int, fraction: num }).optional(),
  worstChannel: z.object({ index: int, cosine: num, relL2: num }).optional(),
});
const maybeMetrics = metricSet.nullable();

const tensorSignature = z.object({ name: z.string(), dtype: z.string(), shape: z.array(z.union([z.number(), z.string()])) });
const buildInfo = z.looseObject({
  label: z.string(),
  kind: z.enum(['model', 'trace']),
  path: z.string(),
  backend: z
    .looseObject({
      providers: z.array(z.string()),
      graphOptimizationLevel: z.string(),
      intraOpThreads: int.nullable(),
      interOpThreads: int.nullable(),
      deterministic: z.boolean().optional(),
      memArena: z.boolean().optional(),
      memPattern: z.boolean().optional(),
      prepacking: z.boolean().optional(),
    })
    .nullable(),
  signatures: z.record(z.string(), z.object({ inputs: z.array(tensorSignature), outputs: z.array(tensorSignature) })),
});

const pipeline = z.looseObject({
  prompt: z.string(),
  negativePrompt: z.string(),
  seed: z.number(),
  noise: z.string(),
  steps: int,
  scheduler: z.string(),
  guidanceScale: z.number(),
  height: int,
  width: int,
});

function recordOf<const K extends readonly string[], T extends z.ZodType>(keys: K, value: T) {
  return z.object(Object.fromEntries(keys.map((k) => [k, value])) as { [P in K[number]]: T });
}

const step = z.looseObject({
  index: int,
  timestep: num,
  teacherForced: recordOf(TEACHER_FORCED_TENSORS, maybeMetrics),
  freeRunning: recordOf(FREE_RUNNING_TENSORS, maybeMetrics),
});

const finding = z.looseObject({
  kind: z.enum(['first-divergence', 'first-nonfinite', 'signature', 'missing-tensor', 'note']),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
  source: z.enum(['engine', 'gates']).default('engine'),
  step: int.optional(),
  tensor: z.string().optional(),
  component: z.string().optional(),
});

const gate = z.looseObject({
  id: z.string(),
  scope: z.enum(['component', 'teacherForced', 'freeRunning', 'final', 'reference']),
  tensor: z.string(),
  metric: z.string(),
  op: z.enum(['>=', '<=']),
  threshold: num,
  actual: num,
  passed: z.boolean(),
  step: int.optional(),
});

const bound = num.nullable().optional();
const tensorThresholds = z.object({
  cosine: bound,
  relL2: bound,
  maxAbs: bound,
  l1: bound,
  rmse: bound,
  sqnr: bound,
  nonFinite: bound,
  'allclose.fraction': bound,
  'allclose.atol': bound,
  'allclose.rtol': bound,
});
const thresholds = z.object({
  teacherForced: recordOf(TEACHER_FORCED_TENSORS, tensorThresholds),
  freeRunning: recordOf(FREE_RUNNING_TENSORS, tensorThresholds),
  // 1.2 added textEncoder2, pooledEmbeds, vaeEncoder: older reports read with them not gated (never measured there).
  components: recordOf(COMPONENT_CHECKS, tensorThresholds.default({})),
  final: z.object({
    latents: tensorThresholds,
    decoded: tensorThresholds,
    image: z.object({ psnr: bound, ssim: bound }),
  }),
});

export const reportSchema = z.looseObject({
  schema: z
    .string()
    .refine((v) => v === REPORT_SCHEMA_MAJOR || /^lockstep\.report\/1\.\d+$/.test(v), `expected "${REPORT_SCHEMA_MAJOR}" or "${REPORT_SCHEMA_MAJOR}.<minor>" (this lockstep writes ${REPORT_SCHEMA})`)
    .transform((v) => v as ReportSchemaVersion),
  createdAt: z.string(),
  verdict: z.enum(['pass', 'fail']),
  complete: z.boolean(),
  error: z.string().nullable(),
  partial: z.string().optional(),
  firstDivergentStep: int.nullable(),
  builds: z.object({ reference: buildInfo, candidate: buildInfo }),
  pipeline,
  // 1.2 added textEncoder2, pooledEmbeds, vaeEncoder: absent in older reports, read as not checked.
  components: recordOf(COMPONENT_CHECKS, maybeMetrics.default(null)),
  steps: z.array(step),
  final: z.object({
    latents: maybeMetrics,
    decoded: maybeMetrics,
    image: z.object({ psnr: num, ssim: num }).nullable(),
  }),
  findings: z.array(finding),
  gates: z.array(gate),
  thresholds,
  worstStepHistogram: z
    .object({
      step: int,
      tensor: z.string(),
      histogram: z.object({ lowExponent: int, binsPerDecade: int, counts: z.array(int), zeros: int, nonFinite: int }),
    })
    .optional(),
  versions: z.looseObject({ lockstep: z.string(), onnxruntime: z.string().nullable(), onnxruntimeWeb: z.string().nullable().optional() }),
  timing: z.looseObject({ wallSeconds: num, ortSeconds: num }),
  memory: z
    .looseObject({ sequential: z.boolean(), requested: z.enum(['auto', 'sequential', 'live']), estimatedBothLiveBytes: num.nullable(), availableBytes: num })
    .optional(),
});

// Compile-time proof that what the reader returns is a ReportDocument.
const _readerMatchesTypes = (x: z.output<typeof reportSchema>): ReportDocument => x;
void _readerMatchesTypes;

/** Validates parsed JSON as a report; `name` (the file) prefixes every error, with the key path. */
export function parseReport(value: unknown, name: string): ReportDocument {
  const result = reportSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`);
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  throw new UsageError(`${name}: not a valid ${REPORT_SCHEMA_MAJOR}.x report: ${lines.join('; ')}${more}`);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
