/** Turning a PATH into a build: a model folder (live) or a trace folder (recorded). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { BackendOptions } from '../models/backend.ts';
import type { OnnxStableDiffusion } from '../models/sd-model.ts';
import { isModelFolder } from '../models/layout.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import type { BuildInfo } from '../report/schema.ts';
import { LiveSide, type Side, TraceSide } from './sides.ts';
import { TraceReader } from '../trace/reader.ts';

export interface BuildSpec {
  path: string;
  backend: BackendOptions;
  label?: string;
}

export function buildKind(path: string): 'model' | 'trace' {
  if (existsSync(join(path, 'manifest.json'))) return 'trace';
  if (isModelFolder(path)) return 'model';
  if (!existsSync(path)) throw new UsageError(`${path}: no such model or trace folder`);
  throw new UsageError(`${path}: neither a model folder (unet/model.onnx, model_index.json) nor a trace folder (manifest.json)`);
}

/** The recorded pipeline settings of a trace build, used as defaults for the run. */
/** A 1.1 trace's family, and its image-to-image input (stored in the trace, the path relative to it). */
function familyAndImage(reader: TraceReader): Partial<PipelineSettings> {
  const p = reader.manifest.pipeline as Record<string, unknown>;
  const out: Partial<PipelineSettings> = {};
  if (typeof p.family === 'string') out.family = p.family;
  if (typeof p.strength === 'number') out.strength = p.strength;
  if (typeof p.image === 'string') out.image = resolve(reader.dir, p.image);
  return out;
}

export function recordedSettings(path: string): Partial<PipelineSettings> {
  if (buildKind(path) !== 'trace') return {};
  const reader = new TraceReader(path);
  const p = reader.manifest.pipeline;
  return {
    ...familyAndImage(reader),
    prompt: p.prompt,
    negativePrompt: p.negativePrompt ?? undefined,
    seed: p.seed,
    noise: p.noise as PipelineSettings['noise'] | undefined,
    steps: p.steps,
    scheduler: p.scheduler,
    guidanceScale: p.guidanceScale ?? undefined,
    height: p.height,
    width: p.width,
  };
}

export async function openSide(spec: BuildSpec, settings: PipelineSettings): Promise<Side> {
  return buildKind(spec.path) === 'trace' ? new TraceSide(spec.path) : LiveSide.open(spec.path, spec.backend, settings);
}

const COMPONENT_KEYS = { text_encoder: 'textEncoder', text_encoder_2: 'textEncoder2', unet: 'unet', vae_encoder: 'vaeEncoder', vae_decoder: 'vaeDecoder' } as const;

export function buildInfo(side: Side, spec: BuildSpec, label: string): BuildInfo {
  if (side instanceof LiveSide) return liveBuildInfo(side.model.onnx, spec, label);
  return { label: spec.label ?? label, kind: side.kind, path: resolve(spec.path), backend: null, signatures: {} };
}

/** The onnxruntime-web version a build ran on, if any (report.json's versions.onnxruntimeWeb). */
export function webRuntimeVersion(...infos: BuildInfo[]): string | null {
  const web = infos.find((i) => i.backend?.runtime === 'onnxruntime-web' || i.backend?.runtime === 'browser');
  return web?.backend?.runtimeVersion ?? null;
}

export function liveBuildInfo(onnx: OnnxStableDiffusion, spec: BuildSpec, label: string): BuildInfo {
  const b = onnx.backend;
  const rt = onnx.runtime;
  const info: BuildInfo = {
    label: spec.label ?? label,
    kind: 'model',
    path: resolve(spec.path),
    backend: {
      providers: b.executionProviders,
      graphOptimizationLevel: b.graphOptimizationLevel,
      intraOpThreads: b.intraOpThreads || null,
      interOpThreads: b.interOpThreads || null,
      deterministic: b.deterministic,
      runtime: rt.runtime,
      runtimeVersion: rt.version,
      ...(rt.wasm ? { wasmThreads: rt.wasm.numThreads, simd: rt.wasm.simd } : {}),
      ...(rt.browser ? { browser: rt.browser } : {}),
      // The memory options are applied by onnxruntime-node only; web runtimes use onnxruntime-web's defaults.
      ...(rt.runtime === 'onnxruntime-node' ? { memArena: b.memArena, memPattern: b.memPattern, prepacking: b.prepacking } : {}),
    },
    signatures: {},
  };
  for (const [name, sig] of Object.entries(onnx.signatures())) {
    info.signatures[COMPONENT_KEYS[name as keyof typeof COMPONENT_KEYS]] = sig;
  }
  return info;
}
