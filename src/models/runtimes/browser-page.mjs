// The page side of the browser runtime (see browser.ts): onnxruntime-web loaded from the
// local server, sessions by id, tensors in and out as one binary payload per run
// (fetched from and posted to the server; no per-element JSON).
// Plain JavaScript: the server sends this file to Chromium as it is.
const params = new URL(location.href).searchParams;
const ort = await import(`/ort/${params.get('bundle')}`);
ort.env.logLevel = 'fatal';
// The wasm files come from the same local server: onnxruntime-web would otherwise look
// for them next to the bundle URL, which is the same place, but say so explicitly.
ort.env.wasm.wasmPaths = `${location.origin}/ort/`;
ort.env.wasm.numThreads = Number(params.get('threads'));

const sessions = new Map();
let nextSession = 0;

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/**
 * Whether the page can run these execution providers: `{ unavailable: sentence }` if not,
 * else `{ adapter }` describing the WebGPU adapter in use (if any).
 */
async function probe(providers, allowFallbackAdapter) {
  let adapter;
  if (providers.includes('webgpu')) {
    if (!('gpu' in navigator)) return { unavailable: 'WebGPU is not available in this browser (navigator.gpu is absent; it needs a secure context and WebGPU enabled)' };
    const a = await navigator.gpu.requestAdapter().catch(() => null);
    if (!a) return { unavailable: 'WebGPU has no GPU adapter (navigator.gpu.requestAdapter() returned null: no usable GPU or driver for this headless browser)' };
    const info = a.info ?? {};
    const fallback = Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter);
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown';
    adapter = `${name}${fallback ? ' (software fallback adapter)' : ''}`;
    if (fallback && !allowFallbackAdapter) {
      return {
        unavailable:
          `WebGPU has no GPU adapter: only the software fallback adapter (${name}) is offered, which runs the WebGPU kernels on the CPU, slowly, ` +
          'with its own numerics rather than a GPU\'s; set LOCKSTEP_WEBGPU_FALLBACK=1 to run on it anyway',
      };
    }
  }
  if (providers.includes('webnn')) {
    if (!('ml' in navigator)) return { unavailable: 'WebNN is not available in this browser (navigator.ml is absent)' };
    try {
      await navigator.ml.createContext();
    } catch (err) {
      return { unavailable: `WebNN cannot create a context (${err && err.message ? err.message : err})` };
    }
  }
  return { adapter };
}

// Binary payload (the same as browser-wire.ts writes and reads): u32 header length (little-endian),
// header JSON [{name, dtype, dims, offset, byteLength}], then the data blocks, each 8-byte aligned;
// offsets count from the first data byte, which is 8-byte aligned too.
const ARRAYS = { float32: Float32Array, float16: Uint16Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array };
const align = (n) => Math.ceil(n / 8) * 8;

function decode(bytes) {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
  const start = align(4 + headerLength);
  const tensors = {};
  for (const t of header) {
    const copy = bytes.slice(start + t.offset, start + t.offset + t.byteLength); // its own aligned buffer
    tensors[t.name] = new ort.Tensor(t.dtype, new ARRAYS[t.dtype](copy.buffer), t.dims);
  }
  return tensors;
}

function encode(tensors) {
  let offset = 0;
  const header = Object.entries(tensors).map(([name, v]) => {
    const h = { name, dtype: v.type, dims: [...v.dims], offset, byteLength: v.data.byteLength };
    offset = align(offset + v.data.byteLength);
    return h;
  });
  const text = new TextEncoder().encode(JSON.stringify(header));
  const start = align(4 + text.byteLength);
  const out = new Uint8Array(start + offset);
  new DataView(out.buffer).setUint32(0, text.byteLength, true);
  out.set(text, 4);
  for (const h of header) {
    const data = tensors[h.name].data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, h.byteLength), start + h.offset);
  }
  return out;
}

window.lockstep = {
  async open({ modelUrl, externalData, options, allowFallbackAdapter }) {
    const { unavailable, adapter } = await probe(options.executionProviders, allowFallbackAdapter);
    if (unavailable) return { unavailable };
    const model = await fetchBytes(modelUrl);
    const session = await ort.InferenceSession.create(model, { ...options, externalData });
    const sessionId = nextSession++;
    sessions.set(sessionId, session);
    return {
      sessionId,
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      version: ort.env.versions.web,
      numThreads: ort.env.wasm.numThreads,
      simd: ort.env.wasm.simd !== false,
      crossOriginIsolated: self.crossOriginIsolated,
      adapter,
    };
  },
  async run({ sessionId, inUrl, outUrl, fetch: names }) {
    const session = sessions.get(sessionId);
    const feeds = decode(await fetchBytes(inUrl));
    const results = names ? await session.run(feeds, names) : await session.run(feeds);
    const r = await fetch(outUrl, { method: 'POST', body: encode(results) });
    if (!r.ok) throw new Error(`POST ${outUrl}: HTTP ${r.status}`);
  },
  async release({ sessionId }) {
    await sessions.get(sessionId)?.release();
    sessions.delete(sessionId);
  },
};
document.title = 'lockstep: ready';
