/**
 * One ONNX model loaded in some ONNX Runtime build, behind one interface:
 * onnxruntime-node in this process, onnxruntime-web's WebAssembly backend in
 * a Node worker, or onnxruntime-web in headless Chromium. Tensors cross it as
 * lockstep `Tensor`s; each runtime converts to its own ort.Tensor class.
 * The web runtimes (and their browser library) are imported only when a build
 * asks for them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { type BackendOptions, runtimeOf } from './backend.ts';
import type { ComponentSignature } from './signature.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A model to load: a file (its external data beside it), or bytes already in memory (all tensors inline). */
export type ModelSource = { kind: 'file'; file: string } | { kind: 'bytes'; bytes: Uint8Array };

export interface ExternalDataFile {
  /** The `location` the model's tensors name, relative to the model's folder. */
  location: string;
  /** Absolute path of that file. */
  file: string;
}

export interface RuntimeSession {
  readonly signature: ComponentSignature;
  /** Runs the model; returns the requested outputs (all graph outputs when `fetch` is absent). */
  run(feeds: Record<string, Tensor>, fetch?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** What a runtime reports about itself once a session is open (recorded in report.json). */
export interface RuntimeInfo {
  runtime: 'onnxruntime-node' | 'onnxruntime-web' | 'browser';
  /** The ONNX Runtime package version that ran the model. */
  version: string;
  /** WebAssembly settings in effect (web runtimes only). */
  wasm?: { numThreads: number; simd: boolean };
  /** Browser product and version (browser runtime only), e.g. "Chromium 156.0.8078.114". */
  browser?: string;
}

export interface OpenedSession {
  session: RuntimeSession;
  info: RuntimeInfo;
}

/** Opens a model in the runtime the backend's providers name. */
export async function openRuntimeSession(source: ModelSource, backend: BackendOptions, label: string): Promise<OpenedSession> {
  switch (runtimeOf(backend)) {
    case 'onnxruntime-node':
      return (await import('./runtimes/ort-node.ts')).openNodeSession(source, backend, label);
    case 'onnxruntime-web':
      return (await import('./runtimes/ort-web.ts')).openWebSession(source, backend, label);
    case 'browser':
      return (await import('./runtimes/browser.ts')).openBrowserSession(source, backend, label);
  }
}

/**
 * The external-data locations a model names. The model is decoded only when
 * its folder holds files other than it and config.json: an inline model
 * (most exports under 2 GB) is not parsed twice.
 */
export function externalDataFiles(file: string): ExternalDataFile[] {
  const dir = dirname(file);
  const others = readdirSync(dir).filter((f) => join(dir, f) !== file && f !== 'config.json');
  if (others.length === 0) return [];
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(file));
  const locations = new Set<string>();
  const visit = (t: { dataLocation?: number | null; externalData?: Array<{ key?: string | null; value?: string | null }> | null }) => {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) locations.add(loc);
  };
  for (const t of model.graph?.initializer ?? []) visit(t);
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) visit(a.t);
  return [...locations].map((location) => ({ location, file: join(dir, location) }));
}
