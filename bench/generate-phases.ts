/**
 * Where one `generate` spends the time that is not ONNX Runtime's: the steps
 * of src/pipeline/generate.ts, run one by one with the ORT clock read between
 * them, in a process of its own (run it several times: one process is one
 * sample). `node --import tsx bench/generate-phases.ts '<json RunJob>'` prints
 * one JSON line: per phase, wall seconds and the part of it inside ORT.
 * docs/benchmarks.md ("Pipeline families") used it to explain the family figures.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DEFAULT_BACKEND } from '../src/models/backend.ts';
import { encodePng, readInputImage } from '../src/pipeline/image.ts';
import { loadPipelineModel, refuseWhatCannotFit } from '../src/pipeline/load.ts';
import { PipelineRun } from '../src/pipeline/run.ts';
import { writeFileAtomic } from '../src/util/fs.ts';
import { loadSharp } from '../src/util/sharp.ts';
import type { RunJob } from './child.ts';
import { jobSettings } from './job-settings.ts';

const job = JSON.parse(process.argv[2]) as RunJob;
const settings = jobSettings(job);

const phases: Record<string, { wall: number; ort: number }> = {};
let clock = { seconds: 0, sessionSeconds: 0 };
async function phase<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  const before = clock.seconds + clock.sessionSeconds;
  const start = performance.now();
  const r = await f();
  const wall = (performance.now() - start) / 1000;
  phases[name] = { wall: (phases[name]?.wall ?? 0) + wall, ort: (phases[name]?.ort ?? 0) + clock.seconds + clock.sessionSeconds - before };
  return r;
}

await loadSharp(); // loaded before the clock, as bench/child.ts does
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-phases-'));
const start = performance.now();
await phase('memory estimate', () => refuseWhatCannotFit(job.model, settings));
const model = await phase('load (sessions, tokenizers, scheduler config)', async () => {
  const m = await loadPipelineModel(job.model, DEFAULT_BACKEND);
  clock = m.onnx.clock; // read before this phase ends: its sessions count as this phase's ORT time
  return m;
});
const image = await phase('read input image', () => readInputImage(settings));
const run = await phase('scheduler set-up', () => new PipelineRun(model, settings, {}, image));
await phase('prepare (prompt encoding, initial latents)', () => run.prepare());
await phase('release encoders', async () => {
  for (const c of ['text_encoder', 'text_encoder_2', 'vae_encoder'] as const) await model.onnx.releaseComponent(c);
});
for (let i = 0; i < run.timesteps.length; i++) await phase('U-Net steps', () => run.step(i));
await phase('release U-Net', () => model.onnx.releaseComponent('unet'));
const result = await phase('VAE decode', () => run.finish());
await phase('PNG encode + write', async () => writeFileAtomic(join(tmp, 'image.png'), encodePng(result.image)));
const wall = (performance.now() - start) / 1000;
await model.onnx.release();
rmSync(tmp, { recursive: true, force: true });
const out = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { wall: round(v.wall), ort: round(v.ort), own: round(v.wall - v.ort) }]));
process.stdout.write(`${JSON.stringify({ wall: round(wall), ort: round(clock.seconds + clock.sessionSeconds), phases: out })}\n`);

function round(x: number): number {
  return Number(x.toFixed(4));
}
