/**
 * The `report.json` contract, version `lockstep.report/1.2`: what the lockstep
 * engine produces and everything downstream (gates, report.md, report.html,
 * `lockstep report DIR`) consumes. These types are the documentation of the
 * data; `docs/report-schema.md` explains each field. The zod reader that
 * validates an existing file lives in `read-schema.ts`.
 *
 * Non-finite numbers: JSON has no Infinity/NaN, yet metrics produce them
 * (SQNR of identical tensors is +Infinity, cosine of a NaN tensor is NaN).
 * In report.json every number field that may be non-finite is written as
 * the string "Infinity", "-Infinity" or "NaN" (see `encodeNumbers`); the
 * reader turns them back into numbers, and also accepts the bare tokens
 * Python's json module writes.
 */
import type { ErrorHistogram, ErrorStatistics, MetricSet as TensorMetrics } from '../metrics/index.ts';

/**
 * A compared tensor: compareTensors' metrics, plus (since 1.1) the error
 * statistics of metrics/error-stats.ts; reports written by 1.0 lack them.
 */
export type MetricSet = TensorMetrics & Partial<ErrorStatistics>;

/** Readers accept every minor version of this major; minors only add optional fields. */
export const REPORT_SCHEMA_MAJOR = 'lockstep.report/1';
export const REPORT_SCHEMA = `${REPORT_SCHEMA_MAJOR}.2` as const;
/** `lockstep.report/1` (1.0) or `lockstep.report/1.N`. */
export type ReportSchemaVersion = typeof REPORT_SCHEMA_MAJOR | `${typeof REPORT_SCHEMA_MAJOR}.${number}`;
export const REPORT_FILE = 'report.json';

/** Where a build's tensors come from: a model folder run live, or a recorded trace replayed. */
export type BuildKind = 'model' | 'trace';

/** onnxruntime session settings of a live build (null for a trace). */
export interface BackendSettings {
  /** Execution providers in priority order, e.g. ["cpu"]. */
  providers: string[];
  /** "disabled" | "basic" | "extended" | "all" (ORT's names). */
  graphOptimizationLevel: string;
  /** null = ORT's default. */
  intraOpThreads: number | null;
  interOpThreads: number | null;
  /** ORT's session.use_deterministic_compute was requested (absent in reports written before it existed). */
  deterministic?: boolean;
  /** Which ONNX Runtime build ran the model: "onnxruntime-node", "onnxruntime-web" (wasm in Node) or "browser" (absent in older reports). */
  runtime?: string;
  /** That build's package version, e.g. "1.30.0". */
  runtimeVersion?: string;
  /** WebAssembly threads the web runtime really used (onnxruntime-web may fall back to 1); web runtimes only. */
  wasmThreads?: number;
  /** WebAssembly SIMD in use (onnxruntime-web 1.30 ships SIMD builds only); web runtimes only. */
  simd?: boolean;
  /** Browser product and version, e.g. "Chromium 156.0.8078.114"; browser runtime only. */
  browser?: string;
  /** ORT's CPU memory arena (`enableCpuMemArena`); absent in reports written before it was recorded. */
  memArena?: boolean;
  /** ORT's memory pattern planning (`enableMemPattern`). */
  memPattern?: boolean;
  /** Weight pre-packing (false = `session.disable_prepacking`). */
  prepacking?: boolean;
}

/** One input or output of a component; dynamic dims are their symbolic names. */
export interface TensorSignature {
  name: string;
  dtype: string;
  shape: Array<number | string>;
}

export interface ComponentSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

export interface BuildInfo {
  label: string;
  kind: BuildKind;
  path: string;
  backend: BackendSettings | null;
  /** Per component ("textEncoder", "unet", "vaeDecoder", ...). */
  signatures: Record<string, ComponentSignature>;
}

export interface PipelineSettings {
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** The random generator: "torch-cpu" | "numpy-legacy". */
  noise: string;
  steps: number;
  scheduler: string;
  guidanceScale: number;
  height: number;
  width: number;
}

/**
 * Whole-component checks, each teacher-forced on the reference's inputs, in
 * execution order. `textEncoder`: the prompt embeddings the U-Net receives
 * (SDXL: the first encoder's part of them). Since 1.2: `textEncoder2` (SDXL:
 * the second encoder's part), `pooledEmbeds` (SDXL: text_encoder_2's pooled
 * `text_embeds`) and `vaeEncoder` (image-to-image: the VAE encoder's output);
 * reports written before 1.2 read with them null.
 */
export const COMPONENT_CHECKS = ['textEncoder', 'textEncoder2', 'pooledEmbeds', 'vaeEncoder', 'vaeDecoder'] as const;
export type ComponentCheck = (typeof COMPONENT_CHECKS)[number];
export type ComponentChecks = Record<ComponentCheck, MetricSet | null>;
/** The checks made before the U-Net's first step: a failure there comes before any step's. */
export const UPSTREAM_CHECKS: readonly ComponentCheck[] = ['textEncoder', 'textEncoder2', 'pooledEmbeds', 'vaeEncoder'];
/** How reports name each check. */
export const COMPONENT_LABELS: Record<ComponentCheck, string> = {
  textEncoder: 'text encoder',
  textEncoder2: 'text encoder 2',
  pooledEmbeds: 'pooled text embeddings',
  vaeEncoder: 'VAE encoder',
  vaeDecoder: 'VAE decoder',
};

/** Tensors compared in each mode; null = not compared (absent, or guidance ≤ 1 for the guidance ones). */
export const TEACHER_FORCED_TENSORS = ['noisePred', 'noisePredUncond', 'noisePredText', 'guidanceDelta'] as const;
export const FREE_RUNNING_TENSORS = [
  'latentModelInput',
  'noisePredUncond',
  'noisePredText',
  'noisePred',
  'guidanceDelta',
  'latents',
] as const;
export type TeacherForcedTensor = (typeof TEACHER_FORCED_TENSORS)[number];
export type FreeRunningTensor = (typeof FREE_RUNNING_TENSORS)[number];

export type TeacherForcedRecord = Record<TeacherForcedTensor, MetricSet | null>;
export type FreeRunningRecord = Record<FreeRunningTensor, MetricSet | null>;

export interface StepRecord {
  /** 0-based, in execution order. */
  index: number;
  /** The scheduler's timestep for this step. */
  timestep: number;
  /** The candidate U-Net fed the reference's inputs: this step's own error. */
  teacherForced: TeacherForcedRecord;
  /** Each build on its own trajectory: accumulated drift. */
  freeRunning: FreeRunningRecord;
}

export interface ImageMetrics {
  /** dB over 8-bit RGB; Infinity when identical. */
  psnr: number;
  ssim: number;
}

export interface FinalRecord {
  latents: MetricSet | null;
  decoded: MetricSet | null;
  image: ImageMetrics | null;
}

export type FindingKind = 'first-divergence' | 'first-nonfinite' | 'signature' | 'missing-tensor' | 'note';
export type Severity = 'error' | 'warning' | 'info';
/** The tensor families a finding or gate can concern. */
export type Mode = 'teacherForced' | 'freeRunning';

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  message: string;
  /** Absent or "engine": kept when gates are re-evaluated; "gates": recomputed each time. */
  source?: 'engine' | 'gates';
  step?: number;
  /** e.g. "teacherForced.noisePred", "final.latents". */
  tensor?: string;
  component?: string;
}

/** 'reference': the one gate on the reference's own health (`reference.nonFinite`), never switched off. */
export type GateScope = 'component' | 'teacherForced' | 'freeRunning' | 'final' | 'reference';
export type GateOp = '>=' | '<=';

export interface GateResult {
  /** Unique and readable: "step[3].teacherForced.noisePred.cosine", "final.image.psnr". */
  id: string;
  scope: GateScope;
  /** The tensor within the scope ("noisePred", "textEncoder", "image"). */
  tensor: string;
  metric: string;
  op: GateOp;
  threshold: number;
  actual: number;
  passed: boolean;
  step?: number;
}

/**
 * Metrics a tensor threshold can bound; `nonFinite` = candidate NaN + Inf
 * count; `allclose.fraction` = the fraction of elements failing the
 * element-wise check (report 1.1).
 */
export const TENSOR_METRICS = ['cosine', 'relL2', 'maxAbs', 'l1', 'rmse', 'sqnr', 'nonFinite', 'allclose.fraction'] as const;
export type TensorMetric = (typeof TENSOR_METRICS)[number];
/**
 * Not bounds but settings of the element-wise check, set per tensor with the
 * same keys as thresholds; used when tensors are compared (absent = the
 * defaults in metrics/error-stats.ts), recorded in each `allclose` result.
 */
export const TENSOR_PARAMETERS = ['allclose.atol', 'allclose.rtol'] as const;
export type TensorParameter = (typeof TENSOR_PARAMETERS)[number];
export const IMAGE_METRICS = ['psnr', 'ssim'] as const;
export type ImageMetric = (typeof IMAGE_METRICS)[number];

/** A bound per metric; absent or null = not gated. Also holds the allclose tolerances. */
export type TensorThresholds = Partial<Record<TensorMetric | TensorParameter, number | null>>;

export interface Thresholds {
  teacherForced: Record<TeacherForcedTensor, TensorThresholds>;
  freeRunning: Record<FreeRunningTensor, TensorThresholds>;
  components: Record<ComponentCheck, TensorThresholds>;
  final: {
    latents: TensorThresholds;
    decoded: TensorThresholds;
    image: Partial<Record<ImageMetric, number | null>>;
  };
}

export interface Timing {
  wallSeconds: number;
  /** Time spent inside onnxruntime `run()` calls, both builds. */
  ortSeconds: number;
  /** Time spent creating and releasing onnxruntime sessions (loading and freeing the models), both builds; optional (older reports lack it). */
  ortSessionSeconds?: number;
}

export interface ReportDocument {
  schema: ReportSchemaVersion;
  /** ISO 8601, when the run started. */
  createdAt: string;
  /** "pass" only when the run is complete and every gate passed. */
  verdict: 'pass' | 'fail';
  /** false while running, or when the run was interrupted or failed midway. */
  complete: boolean;
  /** Why the run stopped early (null when it did not). */
  error: string | null;
  /** Set when the user asked to compare against an incomplete reference: why it is partial (the report is then never complete and never passes). */
  partial?: string;
  firstDivergentStep: number | null;
  builds: { reference: BuildInfo; candidate: BuildInfo };
  pipeline: PipelineSettings;
  components: ComponentChecks;
  steps: StepRecord[];
  final: FinalRecord;
  findings: Finding[];
  gates: GateResult[];
  thresholds: Thresholds;
  /** 1.1: |Δ| histogram of the worst step's main tensor (teacher-forced noisePred, else free-running latents); absent before 1.1 or when no step was compared. */
  worstStepHistogram?: WorstStepHistogram;
  versions: Versions;
  timing: Timing;
  /** How the builds were held in memory (absent in reports written before it was recorded). */
  memory?: MemoryRecord;
}

/** The engine's memory decision: both live builds at once, or one at a time. */
export interface MemoryRecord {
  /** The reference ran first to a trace, then the candidate against it: one build loaded at a time. */
  sequential: boolean;
  /** What was asked: "auto" (the default: sequential only when both would not fit), "sequential" or "live". */
  requested: 'auto' | 'sequential' | 'live';
  /** Estimated peak with both builds live (docs/memory-estimate.md, with a margin); null when at most one build is live. */
  estimatedBothLiveBytes: number | null;
  /** Memory available when the run started (MemAvailable, or the cgroup's room if smaller). */
  availableBytes: number;
}

export interface WorstStepHistogram {
  step: number;
  /** "teacherForced.noisePred" or "freeRunning.latents". */
  tensor: string;
  histogram: ErrorHistogram;
}

/** Versions of what produced the report; `onnxruntimeWeb` is set when a build ran on onnxruntime-web (in Node or a browser). */
export interface Versions {
  lockstep: string;
  /** onnxruntime-node's version; null when no live build ran. */
  onnxruntime: string | null;
  onnxruntimeWeb?: string | null;
}

export interface NewReportInit {
  builds: { reference: BuildInfo; candidate: BuildInfo };
  pipeline: PipelineSettings;
  thresholds: Thresholds;
  /** 1.1: |Δ| histogram of the worst step's main tensor (teacher-forced noisePred, else free-running latents); absent before 1.1 or when no step was compared. */
  worstStepHistogram?: WorstStepHistogram;
  versions: Versions;
  createdAt?: string;
}

/** An empty, incomplete report the engine fills step by step. */
export function newReport(init: NewReportInit): ReportDocument {
  return {
    schema: REPORT_SCHEMA,
    createdAt: init.createdAt ?? new Date().toISOString(),
    verdict: 'fail',
    complete: false,
    error: null,
    firstDivergentStep: null,
    builds: init.builds,
    pipeline: init.pipeline,
    components: emptyComponents(),
    steps: [],
    final: { latents: null, decoded: null, image: null },
    findings: [],
    gates: [],
    thresholds: init.thresholds,
    versions: init.versions,
    timing: { wallSeconds: 0, ortSeconds: 0 },
  };
}

/** Every component check, none made yet. */
export function emptyComponents(): ComponentChecks {
  return Object.fromEntries(COMPONENT_CHECKS.map((k) => [k, null])) as ComponentChecks;
}

/** A step record with nothing compared yet; fill in what the run produces. */
export function emptyStep(index: number, timestep: number): StepRecord {
  const tf = Object.fromEntries(TEACHER_FORCED_TENSORS.map((k) => [k, null])) as TeacherForcedRecord;
  const fr = Object.fromEntries(FREE_RUNNING_TENSORS.map((k) => [k, null])) as FreeRunningRecord;
  return { index, timestep, teacherForced: tf, freeRunning: fr };
}

/** Non-finite numbers as the strings report.json stores them. */
export const NONFINITE_STRINGS = ['Infinity', '-Infinity', 'NaN'] as const;

/** JSON text of a report with non-finite numbers encoded as strings. */
export function stringifyReport(report: ReportDocument): string {
  return JSON.stringify(report, (_key, value) => encodeNumber(value), 2) + '\n';
}

function encodeNumber(value: unknown): unknown {
  if (typeof value !== 'number' || Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}
