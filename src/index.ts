/**
 * The public API: everything `import { ... } from 'lockstep'` offers, and
 * nothing else (semantic versioning applies to exactly this list and to
 * `lockstep/vitest`; see README "Versioning"). docs/api.md has an example per
 * entry. Runs (generate, compare, forgeVariant) load ONNX Runtime only when
 * called.
 */

// Whole runs.
export {
  compare,
  forgeVariant,
  generate,
  type BuildInput,
  type CompareRun,
  type GenerateRun,
  type RunSettings,
  type VariantOptions,
  type VariantRecord,
} from './api/runs.ts';
export type { GenerateResult } from './pipeline/generate.ts';
export type { FinalResult } from './pipeline/run.ts';
export { DEFAULT_SETTINGS, type PipelineSettings } from './pipeline/settings.ts';
export { DEFAULT_BACKEND, type BackendOptions, type GraphOptimizationLevel } from './models/backend.ts';

// Models to test with.
export { forgeTiny, type ForgeOptions, type ForgeResult, type TinyForgeOptions } from './forge/tiny.ts';

// Traces and tensors.
export { readTrace, TraceReader } from './trace/reader.ts';
export { TraceWriter } from './trace/writer.ts';
export type { TraceManifest } from './trace/manifest.ts';
export { STEP_TENSORS, stepName, type StepTensor } from './trace/names.ts';
export { encodeNpy, parseNpy, readNpy, writeNpy } from './tensor/npy.ts';
export { float32, makeTensor, type DType, type Tensor, type TensorData } from './tensor/tensor.ts';
export { compareTensors, type MetricSet } from './metrics/index.ts';

// The exact pieces: schedulers, noise, tokenizer.
export {
  createScheduler,
  loadSchedulerConfig,
  SCHEDULER_NAMES,
  schedulerClassOf,
  schedulerNameOf,
  type Scheduler,
  type SchedulerConfig,
  type SchedulerName,
} from './schedulers/index.ts';
export { createGenerator, NOISE_KINDS, type NoiseGenerator, type NoiseKind, type TorchCpuOptions } from './rng/index.ts';
export { ClipTokenizer, loadClipTokenizer, type ClipEncoding } from './tokenizer/index.ts';

// Reports, thresholds and gates (report.json: schema lockstep.report/1, docs/report-schema.md).
export { applyGates, defaultThresholds } from './gates/index.ts';
export { readReport, writeReport } from './report/write.ts';
export { parseReport } from './report/read-schema.ts';
export {
  COMPONENT_CHECKS,
  REPORT_SCHEMA,
  stringifyReport,
  type BackendSettings,
  type BuildInfo,
  type ComponentCheck,
  type ComponentChecks,
  type Finding,
  type FinalRecord,
  type GateResult,
  type ImageMetrics,
  type ReportDocument,
  type StepRecord,
  type TensorThresholds,
  type Thresholds,
  type Timing,
} from './report/schema.ts';

// Errors and exit codes.
export { EXIT_CANNOT_RUN, EXIT_INTERRUPTED, EXIT_PASS, EXIT_REGRESSION, UsageError } from './errors.ts';
export { LOCKSTEP_VERSION as version } from './version.ts';
