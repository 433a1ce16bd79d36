/**
 * onnxruntime-node's CPU provider vs onnxruntime-web's wasm (in Node and in
 * headless Chromium) on one model: the noise floor `calibrate` derives on
 * each runtime, per-step drift of each web build against the CPU reference,
 * and the speed of each (time inside ORT run calls; min over repeats,
 * interleaved). Writes reports/bench/web-backends.json; docs/backends.md
 * quotes it.
 *
 *   node --import tsx bench/web-backends.ts [--model DIR] [--steps 20] [--size 64] [--repeats 2] [--threads 1]
 *     [--unet-runs 20] [--no-browser] [--no-generate] [--no-drift] [--no-calibrate]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { calibrate } from '../src/calibrate/calibrate.ts';
import { ensureTinyModel } from '../src/forge/cache.ts';
import { defaultThresholds } from '../src/gates/index.ts';
import { runLockstep } from '../src/lockstep/engine.ts';
import { type BackendOptions, DEFAULT_BACKEND } from '../src/models/backend.ts';
import { openRuntimeSession } from '../src/models/session.ts';
import { generate } from '../src/pipeline/generate.ts';
import { makeTensor } from '../src/tensor/tensor.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from '../src/pipeline/settings.ts';
import { machine } from './machine.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    steps: { type: 'string', default: '20' },
    size: { type: 'string', default: '64' },
    repeats: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    'no-browser': { type: 'boolean', default: false },
    'no-calibrate': { type: 'boolean', default: false },
    'no-generate': { type: 'boolean', default: false },
    'no-drift': { type: 'boolean', default: false },
    'unet-runs': { type: 'string', default: '20' },
    out: { type: 'string', default: join(ROOT, 'reports', 'bench', 'web-backends.json') },
  },
});

const threads = Number(args.threads);
const backends: Record<string, BackendOptions> = {
  cpu: { ...DEFAULT_BACKEND, intraOpThreads: threads },
  wasm: { ...DEFAULT_BACKEND, executionProviders: ['wasm'], intraOpThreads: threads },
  ...(args['no-browser'] ? {} : { 'browser-wasm': { ...DEFAULT_BACKEND, executionProviders: ['browser-wasm'], intraOpThreads: threads } }),
};
const model = args.model ?? (await ensureTinyModel(0));
const size = Number(args.size);
const settings: PipelineSettings = { ...DEFAULT_SETTINGS, prompt: 'a photo of an astronaut riding a horse on mars', seed: 1, steps: Number(args.steps), height: size, width: size };
const log = (s: string) => process.stdout.write(`${s}\n`);
const work = mkdtempSync(join(tmpdir(), 'lockstep-web-bench-'));
const result: Record<string, unknown> = { model, settings, threads, machine: machine(), loadavgStart: loadavg() };

try {
  // Speed: the same generate on each runtime, interleaved, min over repeats.
  const speed: Record<string, { ortRunSeconds: number; ortSessionSeconds: number; wallSeconds: number }> = {};
  for (let r = 0; r < (args['no-generate'] ? 0 : Number(args.repeats)); r++) {
    for (const [name, backend] of Object.entries(backends)) {
      const g = await generate({ model, settings, backend });
      const prev = speed[name];
      if (!prev || g.ortSeconds < prev.ortRunSeconds) speed[name] = { ortRunSeconds: g.ortSeconds, ortSessionSeconds: g.ortSessionSeconds, wallSeconds: g.wallSeconds };
      log(`speed ${name} #${r}: ORT run ${g.ortSeconds.toFixed(2)} s, sessions ${g.ortSessionSeconds.toFixed(2)} s`);
    }
  }
  if (speed.cpu) result.speed = Object.fromEntries(Object.entries(speed).map(([k, v]) => [k, { ...v, runRatioToCpu: v.ortRunSeconds / speed.cpu.ortRunSeconds }]));

  // Kernel speed: one U-Net call (batch 2, the guided step) on each runtime, interleaved; min and median of N.
  // The min is robust to other load on the machine; the generate figures above are not.
  const unetFile = join(model, 'unet', 'model.onnx');
  const sessions = Object.fromEntries(
    await Promise.all(Object.entries(backends).map(async ([name, b]) => [name, (await openRuntimeSession({ kind: 'file', file: unetFile }, b, unetFile)).session] as const)),
  );
  const lat = size / 8;
  const sig = sessions.cpu.signature.inputs;
  const hidden = Number(sig.find((i) => i.name === 'encoder_hidden_states')?.shape[2] ?? 768);
  const tsDtype = sig.find((i) => i.name === 'timestep')?.dtype;
  const feeds = {
    sample: makeTensor('float32', [2, 4, lat, lat], Float32Array.from({ length: 2 * 4 * lat * lat }, (_, i) => Math.sin(i))),
    timestep: tsDtype === 'int64' ? makeTensor('int64', [1], BigInt64Array.from([901n])) : makeTensor('float32', [1], Float32Array.from([901])),
    encoder_hidden_states: makeTensor('float32', [2, 77, hidden], Float32Array.from({ length: 2 * 77 * hidden }, (_, i) => Math.cos(i) * 0.5)),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(sessions).map((n) => [n, []]));
  for (let i = 0; i < Number(args['unet-runs']); i++) {
    for (const [name, session] of Object.entries(sessions)) {
      const t0 = performance.now();
      await session.run(feeds);
      times[name].push(performance.now() - t0);
    }
  }
  for (const session of Object.values(sessions)) await session.release();
  const stat = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { minMs: sorted[0], medianMs: sorted[Math.floor(sorted.length / 2)] };
  };
  result.unetCall = Object.fromEntries(Object.entries(times).map(([n, xs]) => [n, { ...stat(xs), minRatioToCpu: stat(xs).minMs / stat(times.cpu).minMs }]));
  log(`unet call: ${JSON.stringify(result.unetCall)}`);

  // Drift: each web build against the CPU reference, step by step.
  const drift: Record<string, unknown> = {};
  for (const name of Object.keys(backends).filter((n) => n !== 'cpu' && !args['no-drift'])) {
    const report = await runLockstep({
      reference: { path: model, backend: backends.cpu },
      candidate: { path: model, backend: backends[name] },
      settings,
      thresholds: defaultThresholds(),
      reportDir: join(work, name),
    });
    drift[name] = {
      verdict: report.verdict,
      textEncoderRelL2: report.components.textEncoder?.relL2,
      vaeDecoderRelL2: report.components.vaeDecoder?.relL2,
      steps: report.steps.map((s) => ({ index: s.index, tfNoisePredRelL2: s.teacherForced.noisePred?.relL2, tfNoisePredMaxAbs: s.teacherForced.noisePred?.maxAbs, frLatentsRelL2: s.freeRunning.latents?.relL2 })),
      finalLatentsRelL2: report.final.latents?.relL2,
      image: report.final.image,
    };
    log(`drift ${name}: ${JSON.stringify(drift[name])}`);
  }
  result.drift = drift;

  // Noise floors calibrate derives with each runtime as the base build.
  if (!args['no-calibrate']) {
    const floors: Record<string, unknown> = {};
    for (const name of ['cpu', 'wasm']) {
      const doc = await calibrate({ model, settings, backend: backends[name] });
      floors[name] = { floors: doc.calibration.floors, modes: doc.calibration.modes.map((m) => ({ name: m.name, floors: m.floors })) };
      log(`floor ${name}: ${JSON.stringify(doc.calibration.floors)}`);
    }
    result.floors = floors;
  }
  result.loadavgEnd = loadavg();
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${args.out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
