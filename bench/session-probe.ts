/**
 * One ONNX Runtime session in a process of its own, to see where memory goes:
 * `node --import tsx bench/session-probe.ts '<json probe>'` opens one component
 * with the given session options, runs it `runs` times on SD-shaped inputs
 * (batch 2, latents size/8), and prints one JSON line: RSS after creating the
 * session, after each run, the peak, and the times. docs/benchmarks.md,
 * "Where the memory goes", is measured with it.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

export interface Probe {
  /** The component's model.onnx. */
  file: string;
  component: 'unet' | 'vae_decoder' | 'text_encoder';
  options: ort.InferenceSession.SessionOptions;
  /** Image side in pixels (latents are size / 8). */
  size: number;
  runs: number;
  /** Hand ORT the external data as bytes (`externalData`) instead of letting it read the file. */
  externalDataAsBytes?: boolean;
}

const GiB = 2 ** 30;
const rss = () => process.memoryUsage().rss / GiB;
/**
 * This process's own high-water mark (VmHWM). `resourceUsage().maxRSS` would not do: on Linux it
 * keeps the parent's peak across fork + exec, so a small probe would report its launcher's RSS.
 */
const peak = () => Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 2 ** 20;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function feeds(session: ort.InferenceSession, p: Probe): Record<string, ort.Tensor> {
  const latent = p.size / 8;
  const filled = (type: string, dims: number[], value: number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    if (type === 'int64') return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(value)), dims);
    if (type === 'int32') return new ort.Tensor('int32', new Int32Array(n).fill(value), dims);
    if (type === 'float64') return new ort.Tensor('float64', new Float64Array(n).fill(value), dims);
    return new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i) * value), dims);
  };
  const out: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) continue;
    const type = String(m.type);
    if (m.name === 'sample') out.sample = filled(type, [2, 4, latent, latent], 1);
    else if (m.name === 'timestep') out.timestep = filled(type, m.shape.length === 0 ? [] : [1], 500);
    else if (m.name === 'encoder_hidden_states') out.encoder_hidden_states = filled(type, [2, 77, 768], 0.5);
    else if (m.name === 'latent_sample') out.latent_sample = filled(type, [1, 4, latent, latent], 1);
    else if (m.name === 'input_ids') out.input_ids = filled(type, [1, 77], 320);
  }
  return out;
}

async function main(p: Probe) {
  const before = rss();
  let options = p.options;
  if (p.externalDataAsBytes) {
    const data = `${p.file}_data`;
    options = { ...options, externalData: [{ path: 'model.onnx_data', data: readFileSync(data) }] };
  }
  let start = performance.now();
  const session = await ort.InferenceSession.create(p.file, options);
  const createSeconds = (performance.now() - start) / 1000;
  const afterCreate = rss();
  const peakAfterCreate = peak();
  const createCpuSeconds = cpuSeconds();
  const runs: { seconds: number; cpuSeconds: number; rss: number; peak: number }[] = [];
  for (let i = 0; i < p.runs; i++) {
    const f = feeds(session, p);
    start = performance.now();
    const cpu = cpuSeconds();
    await session.run(f);
    runs.push({ seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() - cpu, rss: rss(), peak: peak() });
  }
  start = performance.now();
  await session.release();
  const releaseSeconds = (performance.now() - start) / 1000;
  return { before, createSeconds, createCpuSeconds, afterCreate, peakAfterCreate, runs, releaseSeconds, afterRelease: rss(), peak: peak() };
}

const probe = JSON.parse(process.argv[2]) as Probe;
process.stdout.write(`${JSON.stringify(await main(probe))}\n`);
