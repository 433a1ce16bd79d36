/**
 * onnxruntime-web's WebAssembly backend in Node (`--provider wasm`): the
 * kernels browsers run (wasm SIMD, optionally multi-threaded), not MLAS.
 * Sessions live in a worker thread with its own wasm instance, one worker per
 * thread count: onnxruntime-web's thread count is global to an instance (and
 * it shares onnxruntime-common's backend registry with onnxruntime-node in one
 * thread), so builds with different counts cannot share one. Sessions of one
 * worker share its wasm32 memory (at most 4 GiB).
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { makeTensor } from '../../tensor/tensor.ts';
import type { BackendOptions } from '../backend.ts';
import { type ModelSource, type OpenedSession, type RuntimeSession, externalDataFiles } from '../session.ts';
import { type ComponentSignature, type ValueMetadata, signatureOf } from '../signature.ts';
import { isTensorDtype } from './ort-node.ts';

const WORKER = new URL('./ort-web-worker.mjs', import.meta.url);

/** Session options onnxruntime-web understands; threads are the instance's `env.wasm.numThreads`. */
export function webSessionOptions(b: BackendOptions, providers: string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {
    executionProviders: providers,
    graphOptimizationLevel: b.graphOptimizationLevel,
    logSeverityLevel: 4,
  };
  if (b.deterministic) options.extra = { session: { use_deterministic_compute: '1' } };
  return options;
}

interface OpenReply {
  sessionId: number;
  inputMetadata: ValueMetadata[];
  outputMetadata: ValueMetadata[];
  version: string;
  numThreads: number;
  simd: boolean;
}

interface WireTensor {
  dtype: string;
  dims: number[];
  data: Tensor['data'];
}

export async function openWebSession(source: ModelSource, backend: BackendOptions, label: string): Promise<OpenedSession> {
  const worker = acquireWorker(backend.intraOpThreads);
  const wireSource =
    source.kind === 'file'
      ? { kind: 'file', file: source.file, externalData: externalDataFiles(source.file).map((e) => ({ path: e.location, data: e.file })) }
      : { kind: 'bytes', bytes: source.bytes };
  let reply: OpenReply;
  try {
    reply = (await worker.call('open', { source: wireSource, options: webSessionOptions(backend, ['wasm']), numThreads: backend.intraOpThreads })) as OpenReply;
  } catch (err) {
    await releaseWorker(worker);
    const msg = (err as Error).message.split('\n')[0];
    throw new UsageError(`${label}: onnxruntime-web (wasm) cannot load the model (${msg})${memoryHint(msg, source)}`, { cause: err });
  }
  return {
    session: new WebSession(worker, reply.sessionId, signatureOf(reply)),
    info: { runtime: 'onnxruntime-web', version: reply.version, wasm: { numThreads: reply.numThreads, simd: reply.simd } },
  };
}

/**
 * wasm32 addresses at most 4 GiB, and onnxruntime-web holds the model's bytes
 * as well as its initializers there: an SD 1.5 U-Net (3.4 GB of fp32 weights)
 * fails with std::bad_alloc. Say so instead of leaving a bare bad_alloc.
 */
export function memoryHint(msg: string, source: ModelSource): string {
  if (!/bad_alloc|out of memory|allocation failed|WebAssembly\.Memory/i.test(msg)) return '';
  const bytes = source.kind === 'bytes' ? source.bytes.byteLength : [source.file, ...externalDataFiles(source.file).map((e) => e.file)].reduce((n, f) => n + statSync(f).size, 0);
  return (
    `: WebAssembly (wasm32) memory is limited to 4 GiB per instance, shared by the sessions in it, and onnxruntime-web keeps the model's ` +
    `${(bytes / 2 ** 30).toFixed(2)} GiB of bytes as well as its weights there; run this component on onnxruntime-node, or a smaller (e.g. fp16) export`
  );
}

class WebSession implements RuntimeSession {
  constructor(
    private readonly worker: WorkerChannel,
    private readonly sessionId: number,
    readonly signature: ComponentSignature,
  ) {}

  async run(feeds: Record<string, Tensor>, fetch?: readonly string[]): Promise<Record<string, Tensor>> {
    const wire: Record<string, WireTensor> = {};
    for (const [name, t] of Object.entries(feeds)) wire[name] = { dtype: t.dtype, dims: [...t.dims], data: t.data };
    const { outputs } = (await this.worker.call('run', { sessionId: this.sessionId, feeds: wire, fetch: fetch ? [...fetch] : undefined })) as { outputs: Record<string, WireTensor> };
    return fromWire(outputs, !fetch);
  }

  async release(): Promise<void> {
    try {
      await this.worker.call('release', { sessionId: this.sessionId });
    } finally {
      await releaseWorker(this.worker);
    }
  }
}

/** Outputs back as lockstep tensors; non-numeric ones (bool) are skipped when asked for by name, an error otherwise. */
export function fromWire(outputs: Record<string, WireTensor>, strict: boolean): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(outputs)) {
    if (isTensorDtype(v.dtype)) out[name] = makeTensor(v.dtype, v.dims, v.data as never);
    else if (strict) throw new UsageError(`${name}: output dtype ${v.dtype} is not supported`);
  }
  return out;
}

/** Workers by thread count, with the number of open sessions each; a worker ends with its last session. */
const workers = new Map<number, { channel: WorkerChannel; users: number }>();

function acquireWorker(numThreads: number): WorkerChannel {
  let entry = workers.get(numThreads);
  if (!entry || entry.channel.isDead) {
    entry = { channel: new WorkerChannel(`onnxruntime-web (${numThreads || 'default'} threads)`), users: 0 };
    workers.set(numThreads, entry);
  }
  entry.users++;
  return entry.channel;
}

async function releaseWorker(channel: WorkerChannel): Promise<void> {
  for (const [key, entry] of workers) {
    if (entry.channel !== channel) continue;
    if (--entry.users > 0) return;
    workers.delete(key);
  }
  await channel.close();
}

/**
 * Request/response over one worker. The worker keeps the process alive only
 * while a call is pending, so a build that is never released cannot hang exit.
 */
class WorkerChannel {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 0;
  private dead: Error | null = null;

  constructor(label: string) {
    this.worker = new Worker(WORKER);
    this.worker.unref();
    this.worker.on('message', ({ id, ok, value, error }: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker.unref();
      if (ok) p?.resolve(value);
      else p?.reject(new Error(error));
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(new Error(`${label}: onnxruntime-web worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`${label}: onnxruntime-web worker exited (code ${code})`)));
  }

  get isDead(): boolean {
    return this.dead !== null;
  }

  call(op: string, args: unknown): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
