/**
 * Headless Chromium and the local HTTP server its pages load from, shared by
 * every browser session in this process and shut down with the last one.
 *
 * The server listens on 127.0.0.1 (ephemeral port) and serves only: the page,
 * onnxruntime-web's own dist files (so nothing is fetched from a CDN), and
 * blobs lockstep registered (model files, run inputs) or that the page posts
 * back (run outputs), each under an unguessable token. It sends the headers
 * that make the page cross-origin isolated, which wasm threads need
 * (SharedArrayBuffer).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { UsageError } from '../../errors.ts';

const PAGE_SCRIPT = fileURLToPath(new URL('./browser-page.mjs', import.meta.url));
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const LAUNCH_TIMEOUT_MS = 60_000;
/** Largest posted payload (run outputs); a U-Net output at 1024² is ~2 MB, so this is generous. */
const MAX_POST_BYTES = 2 ** 31;

/** The Chromium lockstep drives: $LOCKSTEP_CHROMIUM, else Debian's /usr/bin/chromium (what CI installs). */
export function chromiumPath(): string {
  return process.env.LOCKSTEP_CHROMIUM || '/usr/bin/chromium';
}

type Blob = { kind: 'file'; file: string } | { kind: 'bytes'; bytes: Uint8Array };

export class BrowserHost {
  private readonly blobs = new Map<string, Blob>();
  private readonly posted = new Map<string, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private readonly pages = new Map<string, Promise<Page>>();
  /** Recent console errors and page errors, quoted when a call fails. */
  readonly pageLog: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly browser: Browser,
  ) {}

  static async start(): Promise<BrowserHost> {
    const exe = chromiumPath();
    if (!existsSync(exe)) {
      throw new UsageError(`the browser providers need Chromium: none at ${exe} (install Debian's chromium, or set LOCKSTEP_CHROMIUM to a Chromium or Chrome binary)`);
    }
    const { chromium } = await import('playwright-core');
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: exe,
        headless: true,
        timeout: LAUNCH_TIMEOUT_MS,
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        // WebGPU on Linux and WebNN are behind flags in Chromium 156; without a GPU they still report no adapter.
        args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan,WebMachineLearningNeuralNetwork'],
      });
    } catch (err) {
      server.close();
      throw new UsageError(`${exe}: cannot start headless Chromium (${(err as Error).message.split('\n')[0]})`, { cause: err });
    }
    const host = new BrowserHost(server, origin, browser);
    server.on('request', (req, res) => host.serve(req, res));
    return host;
  }

  /** "Chromium 156.0.8078.114". */
  get product(): string {
    return `Chromium ${this.browser.version()}`;
  }

  /** A page running onnxruntime-web's `bundle` with `threads` wasm threads (one ort instance per page). */
  page(bundle: string, threads: number): Promise<Page> {
    const key = `${bundle}/${threads}`;
    let page = this.pages.get(key);
    if (!page) {
      page = this.openPage(bundle, threads);
      this.pages.set(key, page);
    }
    return page;
  }

  private async openPage(bundle: string, threads: number): Promise<Page> {
    const page = await this.browser.newPage();
    const note = (line: string) => {
      this.pageLog.push(line);
      if (this.pageLog.length > 20) this.pageLog.shift();
    };
    page.on('pageerror', (err) => note(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') note(`console ${m.type()}: ${m.text()}`);
    });
    await page.goto(`${this.origin}/?bundle=${encodeURIComponent(bundle)}&threads=${threads}`);
    await page.waitForFunction(() => document.title === 'lockstep: ready' || document.title.startsWith('lockstep: failed'), undefined, { timeout: LAUNCH_TIMEOUT_MS });
    const title = await page.title();
    if (title !== 'lockstep: ready') throw new Error(`the page could not load onnxruntime-web's ${bundle} (${title.replace('lockstep: failed: ', '')})`);
    return page;
  }

  /** Serves a file or bytes once registered; returns its URL. */
  register(blob: Blob, name = 'blob'): { url: string; token: string } {
    const token = `${randomBytes(12).toString('hex')}-${encodeURIComponent(name)}`;
    this.blobs.set(token, blob);
    return { url: `${this.origin}/blob/${token}`, token };
  }

  unregister(token: string): void {
    this.blobs.delete(token);
  }

  /** A URL the page POSTs a payload to, and the promise of that payload. */
  expectPost(): { url: string; received: Promise<Uint8Array>; cancel: () => void } {
    const token = randomBytes(12).toString('hex');
    const received = new Promise<Uint8Array>((resolve, reject) => this.posted.set(token, { resolve, reject }));
    received.catch(() => {});
    return { url: `${this.origin}/post/${token}`, received, cancel: () => this.posted.delete(token) };
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => {});
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    // Cross-origin isolation: SharedArrayBuffer, so onnxruntime-web can use wasm threads.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cache-Control', 'no-store');
    const path = new URL(req.url ?? '/', this.origin).pathname;
    try {
      if (req.method === 'POST' && path.startsWith('/post/')) return this.receive(path.slice('/post/'.length), req, res);
      if (req.method !== 'GET') return void res.writeHead(405).end();
      if (path === '/') return this.send(res, 'text/html', PAGE_HTML);
      if (path === '/favicon.ico') return void res.writeHead(204).end();
      if (path === '/page.mjs') return this.send(res, 'text/javascript', readFileSync(PAGE_SCRIPT));
      if (path.startsWith('/ort/')) return this.sendOrtFile(basename(path), res);
      if (path.startsWith('/blob/')) return this.sendBlob(path.slice('/blob/'.length), res);
      res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  }

  private send(res: ServerResponse, type: string, body: string | Uint8Array): void {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(body);
  }

  private sendOrtFile(name: string, res: ServerResponse): void {
    const file = join(ORT_DIST, name);
    if (!/^ort[\w.-]*\.(mjs|wasm)$/.test(name) || !existsSync(file)) return void res.writeHead(404).end();
    this.stream(res, name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', file);
  }

  private sendBlob(token: string, res: ServerResponse): void {
    const blob = this.blobs.get(decodeURIComponent(token)) ?? this.blobs.get(token);
    if (!blob) return void res.writeHead(404).end();
    if (blob.kind === 'bytes') return this.send(res, 'application/octet-stream', blob.bytes);
    this.stream(res, 'application/octet-stream', blob.file);
  }

  private stream(res: ServerResponse, type: string, file: string): void {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  }

  private receive(token: string, req: IncomingMessage, res: ServerResponse): void {
    const waiter = this.posted.get(token);
    if (!waiter) return void res.writeHead(404).end();
    this.posted.delete(token);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_POST_BYTES) req.destroy(new Error('payload too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      res.writeHead(204).end();
      const all = Buffer.concat(chunks);
      waiter.resolve(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
    });
    req.on('error', (err) => waiter.reject(err));
  }
}

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>lockstep: loading</title>
<script type="module">
import('/page.mjs').catch((err) => { document.title = 'lockstep: failed: ' + (err && err.message || err); });
</script>`;
