/**
 * Backend settings are part of a build: the same model under another
 * execution provider, optimization level or thread count is another build.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { UsageError } from '../errors.ts';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';
export const OPT_LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

export interface BackendOptions {
  /** Execution providers in priority order, e.g. ['cpu'] or ['cuda', 'cpu']. */
  executionProviders: string[];
  graphOptimizationLevel: GraphOptimizationLevel;
  /** 0 lets ONNX Runtime choose. */
  intraOpThreads: number;
  interOpThreads: number;
  /**
   * ORT's `session.use_deterministic_compute`: kernels that have a deterministic
   * variant use it (GPU providers; the CPU provider is deterministic already).
   */
  deterministic: boolean;
  /**
   * ORT's CPU memory arena (`enableCpuMemArena`): freed activation buffers are
   * kept for the next allocation instead of going back to the system.
   */
  memArena: boolean;
  /** `enableMemPattern`: after the first run, activations are planned as one block per shape. */
  memPattern: boolean;
  /**
   * Weight pre-packing (off = `session.disable_prepacking`): MatMul/Gemm/Conv
   * weights are repacked once at load into the kernels' layout.
   */
  prepacking: boolean;
}

/** The memory options, as flags, suite keys and report.json fields name them. */
export const MEMORY_OPTIONS = ['memArena', 'memPattern', 'prepacking'] as const;
export type MemoryOption = (typeof MEMORY_OPTIONS)[number];

/**
 * `extended` is bit-reproducible on the CPU provider and identical to
 * `disabled` (ENV-NOTES); `all` rewrites layouts and fuses int8 kernels, so it
 * is treated as a different backend build, not as the reference default.
 */
export const DEFAULT_BACKEND: BackendOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'extended',
  intraOpThreads: 0,
  interOpThreads: 0,
  deterministic: false,
  memArena: true,
  memPattern: false,
  prepacking: true,
};

export function parseOptLevel(value: string, flag: string): GraphOptimizationLevel {
  if ((OPT_LEVELS as readonly string[]).includes(value)) return value as GraphOptimizationLevel;
  throw new UsageError(`${flag}: unknown graph optimization level '${value}' (expected one of ${OPT_LEVELS.join(', ')})`);
}

export function parseProviders(value: string, flag: string): string[] {
  const list = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0) throw new UsageError(`${flag}: expected a comma-separated list of execution providers, e.g. cpu`);
  runtimeOfProviders(list, flag);
  return list;
}

/**
 * Which ONNX Runtime build runs a backend. The provider names choose it:
 * - `wasm`: onnxruntime-web's WebAssembly backend, in Node;
 * - `browser-wasm`, `browser-webgpu`, `browser-webnn`: onnxruntime-web inside headless Chromium;
 * - anything else (`cpu`, `cuda`, …): onnxruntime-node.
 */
export type Runtime = 'onnxruntime-node' | 'onnxruntime-web' | 'browser';
export const WEB_PROVIDERS = ['wasm'] as const;
export const BROWSER_PROVIDERS = ['browser-wasm', 'browser-webgpu', 'browser-webnn'] as const;

export function runtimeOf(b: BackendOptions): Runtime {
  return runtimeOfProviders(b.executionProviders, 'providers');
}

/** One runtime per build: ONNX Runtime falls back between providers of one build, never across builds. */
export function runtimeOfProviders(list: readonly string[], flag: string): Runtime {
  const kinds = new Set(list.map(providerRuntime));
  if (kinds.size > 1) {
    throw new UsageError(
      `${flag}: '${list.join(',')}' mixes providers of different ONNX Runtime builds ` +
        `(onnxruntime-node: cpu, cuda, …; onnxruntime-web in Node: ${WEB_PROVIDERS.join(', ')}; in Chromium: ${BROWSER_PROVIDERS.join(', ')}); pick one`,
    );
  }
  const unknown = list.filter((p) => p.startsWith('browser-') && !(BROWSER_PROVIDERS as readonly string[]).includes(p));
  if (unknown.length) throw new UsageError(`${flag}: unknown browser provider ${unknown.map((p) => `'${p}'`).join(', ')} (expected ${BROWSER_PROVIDERS.join(', ')})`);
  return [...kinds][0] ?? 'onnxruntime-node';
}

function providerRuntime(p: string): Runtime {
  if ((WEB_PROVIDERS as readonly string[]).includes(p)) return 'onnxruntime-web';
  if (p.startsWith('browser-')) return 'browser';
  return 'onnxruntime-node';
}

export function sessionOptions(b: BackendOptions): InferenceSession.SessionOptions {
  // onnxruntime-node rejects explicit `undefined`; leave unset keys out.
  const options: InferenceSession.SessionOptions = {
    executionProviders: b.executionProviders,
    graphOptimizationLevel: b.graphOptimizationLevel,
    // 4 = fatal only: every ORT error reaches lockstep as an exception and is reported naming the file;
    // at 3 ORT also printed its own unnamed, colored copy of it on stderr.
    logSeverityLevel: 4,
  };
  if (b.intraOpThreads) options.intraOpNumThreads = b.intraOpThreads;
  if (b.interOpThreads) options.interOpNumThreads = b.interOpThreads;
  options.enableCpuMemArena = b.memArena;
  options.enableMemPattern = b.memPattern;
  const session: Record<string, string> = {};
  if (b.deterministic) session.use_deterministic_compute = '1';
  if (!b.prepacking) session.disable_prepacking = '1';
  if (Object.keys(session).length > 0) options.extra = { session };
  return options;
}

export function describeBackend(b: BackendOptions): string {
  const runtime = runtimeOf(b);
  const threads = b.intraOpThreads ? `${b.intraOpThreads} intra-op threads` : 'default threads';
  const where = runtime === 'onnxruntime-node' ? '' : ` (${runtime})`;
  const memory = MEMORY_OPTIONS.filter((k) => b[k] !== DEFAULT_BACKEND[k]).map((k) => `${k} ${b[k] ? 'on' : 'off'}`);
  return [`${b.executionProviders.join('>')}${where}`, `opt ${b.graphOptimizationLevel}`, threads, ...memory].join(' / ');
}

/** `on` / `off` (also true/false, 1/0) for a memory option flag. */
export function parseOnOff(value: string, flag: string): boolean {
  const v = value.trim().toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new UsageError(`${flag}: expected on or off, got '${value}'`);
}

/** Turns ORT's provider-loading failures into an explanation (the CPU-only npm binary is the common case). */
export function explainProviderError(err: unknown, b: BackendOptions, file: string): UsageError | null {
  const msg = err instanceof Error ? err.message : String(err);
  const nonCpu = b.executionProviders.filter((p) => p !== 'cpu');
  if (nonCpu.length === 0) return null;
  if (/shared library|not supported|backend not found|unknown provider|EP|provider/i.test(msg)) {
    return new UsageError(
      `${file}: execution provider ${nonCpu.map((p) => `'${p}'`).join(', ')} is not available in this onnxruntime-node build ` +
        `(the npm package ships the CPU provider only; ORT said: ${msg.split('\n')[0]}). ` +
        `Use --ref-provider/--cand-provider cpu, or install an onnxruntime-node build with that provider.`,
    );
  }
  return null;
}
