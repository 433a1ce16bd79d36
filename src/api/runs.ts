/**
 * Whole runs for library users, with the CLI's defaults filled in: `generate`
 * (one text-to-image run), `compare` (the lockstep engine) and `forgeVariant`.
 * Each imports the pipeline (ONNX Runtime, sharp, onnx-proto) only when called,
 * so `import { createScheduler } from 'lockstep'` stays cheap.
 */
import type { GenerateResult } from '../pipeline/generate.ts';
import type { ReportDocument, Thresholds } from '../report/schema.ts';
import { type BackendOptions, DEFAULT_BACKEND } from '../models/backend.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from '../pipeline/settings.ts';

/** Pipeline settings as a caller gives them: the rest take the CLI's defaults (10 steps, 128×128, guidance 7.5, torch-cpu noise, the model's own scheduler). */
export type RunSettings = Partial<PipelineSettings>;

/** A build: a model folder (run live) or a trace folder (replayed), with optional ONNX Runtime settings for a live one. */
export type BuildInput = string | { path: string; backend?: Partial<BackendOptions>; label?: string };

export interface GenerateRun {
  /** A model folder in the diffusers/optimum ONNX layout. */
  model: string;
  settings: RunSettings & Pick<PipelineSettings, 'prompt' | 'seed'>;
  backend?: Partial<BackendOptions>;
  /** Where to write the PNG (omit to keep the image only in the result and the trace). */
  imageOut?: string;
  /** Record every tensor of the run as a trace here. */
  traceDir?: string;
  onStep?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

/** One text-to-image run exactly as diffusers' StableDiffusionPipeline; optionally traced. */
export async function generate(run: GenerateRun): Promise<GenerateResult> {
  const { generate: runGenerate } = await import('../pipeline/generate.ts');
  const settings: PipelineSettings = { ...DEFAULT_SETTINGS, ...defined(run.settings), prompt: run.settings.prompt, seed: run.settings.seed };
  return runGenerate({ ...run, settings, backend: { ...DEFAULT_BACKEND, ...defined(run.backend ?? {}) } });
}

export interface CompareRun {
  /** The build trusted. */
  reference: BuildInput;
  /** The build under test. */
  candidate: BuildInput;
  /** Where report.json, report.md and report.html go. */
  reportDir: string;
  /** Over a trace build's recorded settings, over the CLI's defaults. */
  settings?: RunSettings;
  /** Default: lockstep's default thresholds (docs/thresholds.md). */
  thresholds?: Thresholds;
  /** Load one build at a time (a live reference runs to a trace first). */
  sequential?: boolean;
  signal?: AbortSignal;
  onStep?: (done: number, total: number) => void;
}

/**
 * The lockstep run: reference and candidate side by side from the same seed,
 * teacher-forced and free-running at every step, component checks, gates.
 * Resolves to the judged report (also written to reportDir); `verdict` is
 * "pass" or "fail". Bad input rejects with a UsageError naming it.
 */
export async function compare(run: CompareRun): Promise<ReportDocument> {
  const [{ runLockstep }, { recordedSettings }, { defaultThresholds }] = await Promise.all([
    import('../lockstep/engine.ts'),
    import('../lockstep/builds.ts'),
    import('../gates/defaults.ts'),
  ]);
  const reference = buildSpec(run.reference);
  const candidate = buildSpec(run.candidate);
  const settings: PipelineSettings = {
    ...DEFAULT_SETTINGS,
    prompt: '',
    seed: 0,
    ...defined(recordedSettings(candidate.path)),
    ...defined(recordedSettings(reference.path)),
    ...defined(run.settings ?? {}),
  };
  return runLockstep({
    reference,
    candidate,
    settings,
    thresholds: run.thresholds ?? defaultThresholds(),
    reportDir: run.reportDir,
    sequential: run.sequential,
    signal: run.signal,
    onStep: run.onStep,
  });
}

export interface VariantOptions {
  /** Source model folder. */
  from: string;
  /** fp16, fp16-keep-vae-fp32, int8-weight, int8-dynamic, int8-qdq, prune-N, fault:timestep-float, fault:softmax-fp16, fault:groupnorm-eps, fault:vae-fp16-overflow. */
  kind: string;
  /** Output model folder (replaced). */
  out: string;
  /** text_encoder, unet, vae_decoder (default: the kind's own choice). */
  components?: readonly string[];
  /** int8-qdq: trace folders to calibrate on. */
  calibrate?: readonly string[];
  /** softmax-fp16, groupnorm-eps: node-name pattern of the layers to fault. */
  layers?: string;
  /** fault:groupnorm-eps epsilon. */
  eps?: number;
  /** fault:vae-fp16-overflow gain. */
  gain?: number;
}

/** What forgeVariant wrote (also saved as variant.json in the output folder). */
export interface VariantRecord {
  format: string;
  kind: string;
  parameters: Record<string, unknown>;
  /** Per component touched: initializers and nodes changed, and its external data file if any. */
  components: Partial<Record<'text_encoder' | 'unet' | 'vae_decoder', { weights: number; nodes: number; details?: Record<string, unknown>; externalData: string | null }>>;
  notes: string[];
  source: { files: Record<string, string> };
}

/**
 * Derives an optimized or deliberately faulty candidate (fp16, int8-*, prune-N, fault:*) from any model folder.
 * (The public types above are declared here, not re-exported, so the package's declarations do not depend on onnx-proto's.)
 */
export async function forgeVariant(opts: VariantOptions): Promise<VariantRecord> {
  return (await import('../forge/variants/forge-variant.ts')).forgeVariant(opts);
}

function buildSpec(b: BuildInput): { path: string; backend: BackendOptions; label?: string } {
  const { path, backend, label } = typeof b === 'string' ? { path: b, backend: undefined, label: undefined } : b;
  return { path, backend: { ...DEFAULT_BACKEND, ...defined(backend ?? {}) }, ...(label !== undefined && { label }) };
}

/** Drops undefined values so they do not override defaults in a spread. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
