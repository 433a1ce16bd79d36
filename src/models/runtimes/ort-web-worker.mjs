// One onnxruntime-web WebAssembly instance in a Node worker thread, holding sessions by id.
// Plain JavaScript (no TypeScript loader in workers). Protocol: see ort-web.ts.
// onnxruntime-web's wasm settings (threads) are global to an instance, so each
// thread count gets its own worker: two builds in one process may use different ones.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';

// The wasm files ship inside the npm package and are read from its dist folder;
// a network fetch would be a bug (CI and users may be offline), so refuse it loudly.
globalThis.fetch = async (url) => {
  throw new Error(`onnxruntime-web tried to fetch ${String(url)}; lockstep serves its wasm files from node_modules only`);
};

const sessions = new Map();
let nextSession = 0;

const handlers = {
  async open({ source, options, numThreads }) {
    ort.env.logLevel = 'fatal';
    ort.env.wasm.numThreads = numThreads;
    const model = source.kind === 'file' ? source.file : source.bytes;
    const session = await ort.InferenceSession.create(model, { ...options, externalData: source.externalData });
    const sessionId = nextSession++;
    sessions.set(sessionId, session);
    return {
      sessionId,
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      version: ort.env.versions.web,
      // What the instance really runs with (ORT may fall back to 1 thread); only SIMD builds ship in 1.30.
      numThreads: ort.env.wasm.numThreads,
      simd: ort.env.wasm.simd !== false,
    };
  },
  async run({ sessionId, feeds, fetch }) {
    const session = sessions.get(sessionId);
    const ortFeeds = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data, t.dims);
    const results = fetch ? await session.run(ortFeeds, fetch) : await session.run(ortFeeds);
    const outputs = {};
    for (const [name, v] of Object.entries(results)) outputs[name] = { dtype: v.type, dims: [...v.dims], data: v.data };
    return { outputs };
  },
  async release({ sessionId }) {
    await sessions.get(sessionId)?.release();
    sessions.delete(sessionId);
    return {};
  },
};

parentPort.on('message', async ({ id, op, args }) => {
  try {
    parentPort.postMessage({ id, ok: true, value: await handlers[op](args) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
