/**
 * onnxruntime-web inside headless Chromium (`--provider browser-wasm`,
 * `browser-webgpu`, `browser-webnn`), driven through playwright-core with the
 * system browser (nothing downloaded). Models and run inputs are served to
 * the page from the local server; outputs come back as one posted binary
 * payload. A provider the browser cannot offer (no WebGPU adapter, no WebNN)
 * is a one-line UsageError saying so.
 */
import { UsageError } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { BackendOptions } from '../backend.ts';
import { type ModelSource, type OpenedSession, type RuntimeSession, externalDataFiles } from '../session.ts';
import { type ComponentSignature, type ValueMetadata, signatureOf } from '../signature.ts';
import { BrowserHost } from './browser-host.ts';
import { decodeTensors, encodeTensors } from './browser-wire.ts';
import { memoryHint, webSessionOptions } from './ort-web.ts';
import type { Page } from 'playwright-core';

interface OpenReply {
  unavailable?: string;
  sessionId: number;
  inputMetadata: ValueMetadata[];
  outputMetadata: ValueMetadata[];
  version: string;
  numThreads: number;
  simd: boolean;
  /** The WebGPU adapter used, e.g. "google swiftshader (software fallback adapter)". */
  adapter?: string;
}

/** onnxruntime-web's provider names for lockstep's browser-* ones. */
function pageProviders(backend: BackendOptions): string[] {
  return backend.executionProviders.map((p) => p.replace(/^browser-/, ''));
}

/** The dist bundle that has these providers: the plain wasm build (the one Node runs), WebGPU's, or the one with WebNN. */
function bundleFor(providers: string[]): string {
  if (providers.includes('webnn')) return 'ort.all.min.mjs';
  if (providers.includes('webgpu')) return 'ort.webgpu.min.mjs';
  return 'ort.wasm.min.mjs';
}

let shared: { host: Promise<BrowserHost>; users: number } | null = null;

async function acquireHost(): Promise<BrowserHost> {
  if (!shared) {
    const host = BrowserHost.start();
    shared = { host, users: 0 };
    host.catch(() => (shared = null));
  }
  shared.users++;
  return shared.host;
}

async function releaseHost(): Promise<void> {
  if (!shared || --shared.users > 0) return;
  const { host } = shared;
  shared = null;
  await (await host).close();
}

export async function openBrowserSession(source: ModelSource, backend: BackendOptions, label: string): Promise<OpenedSession> {
  const host = await acquireHost();
  const tokens: string[] = [];
  const serve = (blob: Parameters<BrowserHost['register']>[0], name: string) => {
    const { url, token } = host.register(blob, name);
    tokens.push(token);
    return url;
  };
  try {
    const providers = pageProviders(backend);
    const page = await host.page(bundleFor(providers), backend.intraOpThreads);
    const modelUrl = source.kind === 'file' ? serve({ kind: 'file', file: source.file }, 'model.onnx') : serve({ kind: 'bytes', bytes: source.bytes }, 'model.onnx');
    const externalData = source.kind === 'file' ? externalDataFiles(source.file).map((e) => ({ path: e.location, data: serve({ kind: 'file', file: e.file }, e.location) })) : [];
    const options = webSessionOptions(backend, providers);
    const allowFallbackAdapter = process.env.LOCKSTEP_WEBGPU_FALLBACK === '1';
    const reply = (await call(page, host, 'open', { modelUrl, externalData, options, allowFallbackAdapter }, label).catch((err: Error) => {
      throw new UsageError(`${err.message}${memoryHint(err.message, source)}`, { cause: err });
    })) as OpenReply;
    if (reply.unavailable) {
      throw new UsageError(`${label}: execution provider ${backend.executionProviders.map((p) => `'${p}'`).join(', ')} is not available in ${host.product}: ${reply.unavailable}`);
    }
    return {
      session: new BrowserSession(host, page, reply.sessionId, signatureOf(reply), label),
      info: { runtime: 'browser', version: reply.version, browser: reply.adapter ? `${host.product}, WebGPU adapter ${reply.adapter}` : host.product, wasm: { numThreads: reply.numThreads, simd: reply.simd } },
    };
  } catch (err) {
    await releaseHost();
    throw err;
  } finally {
    for (const t of tokens) host.unregister(t);
  }
}

class BrowserSession implements RuntimeSession {
  constructor(
    private readonly host: BrowserHost,
    private readonly page: Page,
    private readonly sessionId: number,
    readonly signature: ComponentSignature,
    private readonly label: string,
  ) {}

  async run(feeds: Record<string, Tensor>, fetch?: readonly string[]): Promise<Record<string, Tensor>> {
    const input = this.host.register({ kind: 'bytes', bytes: encodeTensors(feeds) }, 'feeds');
    const output = this.host.expectPost();
    try {
      await call(this.page, this.host, 'run', { sessionId: this.sessionId, inUrl: input.url, outUrl: output.url, fetch: fetch ? [...fetch] : undefined }, this.label);
      return decodeTensors(await output.received, !fetch);
    } finally {
      this.host.unregister(input.token);
      output.cancel();
    }
  }

  async release(): Promise<void> {
    try {
      await call(this.page, this.host, 'release', { sessionId: this.sessionId }, this.label).catch(() => {});
    } finally {
      await releaseHost();
    }
  }
}

/** Calls window.lockstep[op](args) in the page; a failure names the component and quotes the page's last errors. */
async function call(page: Page, host: BrowserHost, op: string, args: unknown, label: string): Promise<unknown> {
  try {
    return await page.evaluate(([o, a]) => (window as unknown as { lockstep: Record<string, (x: unknown) => Promise<unknown>> }).lockstep[o as string](a), [op, args] as const);
  } catch (err) {
    const msg = (err as Error).message.replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0];
    const log = host.pageLog.length ? ` (browser log: ${host.pageLog.slice(-3).join(' | ')})` : '';
    throw new Error(`${label}: onnxruntime-web in ${host.product} failed to ${op === 'open' ? 'load the model' : op}: ${msg}${log}`, { cause: err });
  }
}
