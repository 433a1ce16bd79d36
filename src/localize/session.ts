/**
 * ORT sessions over in-memory model copies: one that exposes chosen internal
 * values as extra graph outputs, and one profiling run that records every
 * node output's dtype and shape without holding any of them.
 *
 * Finding (ORT 1.30, documented in docs/localize.md): an extra graph output may
 * be declared with its name only — ORT infers its type when it resolves the
 * graph. Declaring a wrong element type is rejected ("Type (tensor(float)) of
 * output arg … does not match expected type (tensor(int64))"), so we never guess one.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { UsageError } from '../errors.ts';
import { type BackendOptions, DEFAULT_BACKEND, runtimeOf } from '../models/backend.ts';
import { openNodeSession, type NodeSession } from '../models/runtimes/ort-node.ts';
import { type RuntimeSession, openRuntimeSession } from '../models/session.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelProto } from './graph-view.ts';

const { onnx } = onnxProto;

/** dtype, dims and bytes of one value, as a run measured it. */
export interface ValueInfo {
  dtype: string;
  dims: number[];
  bytes: number;
}

const PROFILE_DTYPES: Record<string, { dtype: string; size: number }> = {
  float: { dtype: 'float32', size: 4 },
  double: { dtype: 'float64', size: 8 },
  float16: { dtype: 'float16', size: 2 },
  MLFloat16: { dtype: 'float16', size: 2 },
  int64: { dtype: 'int64', size: 8 },
  int32: { dtype: 'int32', size: 4 },
  int8: { dtype: 'int8', size: 1 },
  uint8: { dtype: 'uint8', size: 1 },
  bool: { dtype: 'bool', size: 1 },
};

export function isFloatDtype(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'float64';
}

/** The model with `extra` appended to its graph outputs (name only: ORT infers the type). */
export function withOutputs(model: ModelProto, extra: readonly string[]): Uint8Array {
  const g = model.graph!;
  const existing = new Set((g.output ?? []).map((o) => o.name));
  const added = extra.filter((n) => !existing.has(n)).map((name) => ({ name }));
  const copy = onnx.ModelProto.create({ ...model, graph: { ...g, output: [...(g.output ?? []), ...added] } });
  return onnx.ModelProto.encode(copy).finish();
}

/** A session in the build's own runtime (onnxruntime-node, onnxruntime-web's wasm, or the browser). */
export async function openSession(bytes: Uint8Array, backend: BackendOptions, label: string): Promise<RuntimeSession> {
  try {
    return (await openRuntimeSession({ kind: 'bytes', bytes }, backend, label)).session;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${label}: ONNX Runtime cannot load the model (${firstLine(err)})`, { cause: err });
  }
}

/** Runs a session and returns the requested outputs as Tensors (non-numeric outputs such as bool are skipped). */
export async function runSession(session: RuntimeSession, feeds: Record<string, Tensor>, fetch: readonly string[], label: string): Promise<Map<string, Tensor>> {
  let result: Record<string, Tensor>;
  try {
    result = await session.run(feeds, fetch);
  } catch (err) {
    throw new UsageError(`${label}: ONNX Runtime run failed (${firstLine(err)})`, { cause: err });
  }
  const out = new Map<string, Tensor>();
  for (const name of fetch) if (result[name]) out.set(name, result[name]);
  return out;
}

/**
 * The profiler is onnxruntime-node's: a web build's values are sized on the
 * CPU provider at the same optimization level (dtypes and shapes do not depend
 * on the runtime).
 */
async function openProfiledSession(bytes: Uint8Array, backend: BackendOptions, label: string, prefix: string): Promise<NodeSession> {
  const nodeBackend = runtimeOf(backend) === 'onnxruntime-node' ? backend : { ...DEFAULT_BACKEND, graphOptimizationLevel: backend.graphOptimizationLevel };
  try {
    return (await openNodeSession({ kind: 'bytes', bytes }, nodeBackend, label, { enableProfiling: true, profileFilePrefix: prefix })).session as NodeSession;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${label}: ONNX Runtime cannot load the model (${firstLine(err)})`, { cause: err });
  }
}

/**
 * One run with ORT's profiler on and graph optimization off (so node names are
 * the model's own): the profile lists every executed node's output types and
 * shapes. Values it misses (Constants folded at load) are absent from the map.
 */
export async function profileValues(model: ModelProto, feeds: Record<string, Tensor>, backend: BackendOptions, label: string): Promise<Map<string, ValueInfo>> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-profile-'));
  try {
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
    // Each attempt gets its own prefix: a session that failed to load may still have written a profile.
    const profiled = (level: BackendOptions['graphOptimizationLevel']) =>
      openProfiledSession(bytes, { ...backend, graphOptimizationLevel: level }, label, join(dir, `p-${level}`));
    let session: NodeSession;
    let level: BackendOptions['graphOptimizationLevel'] = 'disabled';
    try {
      session = await profiled(level);
    } catch (err) {
      // ORT 1.30 (CPU) cannot load some fp16 graphs with optimization disabled: a
      // Cast fp16→fp16 in front of an op it runs in float32 gets its inserted
      // Cast's float32 type ("Type (tensor(float)) of output arg
      // (InsertedPrecisionFreeCast_…) … does not match expected type
      // (tensor(float16))"), while at `basic` the no-op Cast is removed first.
      // Profile at `basic` then: fused or removed nodes miss from the profile
      // and are sized by capture (sizing.ts).
      if (backend.graphOptimizationLevel === 'disabled') throw err;
      level = 'basic';
      session = await profiled(level);
    }
    const outputs = (model.graph?.output ?? []).map((o) => o.name ?? '');
    await runSession(session, feeds, outputs, label);
    session.ort.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.startsWith(`p-${level}`) && f.endsWith('.json'));
    if (!file) throw new UsageError(`${label}: ONNX Runtime wrote no profile; cannot size intermediate tensors`);
    const values = parseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), model);
    for (const [name, t] of Object.entries(feeds)) values.set(name, { dtype: t.dtype, dims: [...t.dims], bytes: t.data.byteLength });
    return values;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { output_type_shape?: Array<Record<string, number[]>> };
}

function parseProfile(events: ProfileEvent[], model: ModelProto): Map<string, ValueInfo> {
  const byName = new Map((model.graph?.node ?? []).map((n) => [n.name ?? '', n]));
  const out = new Map<string, ValueInfo>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const node = byName.get(e.name.slice(0, -'_kernel_time'.length));
    const shapes = e.args?.output_type_shape ?? [];
    node?.output?.forEach((value, i) => {
      const entry = shapes[i];
      if (!value || !entry) return;
      const [key, dims] = Object.entries(entry)[0] ?? [];
      const t = key ? PROFILE_DTYPES[key] : undefined;
      if (!t || !Array.isArray(dims)) return;
      out.set(value, { dtype: t.dtype, dims, bytes: t.size * dims.reduce((a, b) => a * b, 1) });
    });
  }
  return out;
}

export function tensorBytes(t: Tensor): number {
  return t.data.byteLength;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
