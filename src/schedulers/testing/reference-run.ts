/**
 * Drives a scheduler through one of the reference runs in
 * shared/reference/schedulers/ (diffusers 0.27.2 with a stand-in model) and
 * measures every step against what diffusers recorded.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../tensor/npy.ts';
import { type Tensor, float32, toFloat64 } from '../../tensor/tensor.ts';
import { readPythonJson } from '../../util/json.ts';
import { REFERENCE_DIR } from '../../testing/paths.ts';
import type { NoiseGenerator } from '../../rng/types.ts';
import type { Scheduler, SchedulerConfig } from '../types.ts';
import { sleefSinf } from '../torch-math.ts';

export const SCHEDULER_REFERENCE_DIR = join(REFERENCE_DIR, 'schedulers');

export interface SchedulerManifest {
  pipeline: { seed: number; steps: number; scheduler: string };
  schedulerConfig: SchedulerConfig;
  timesteps: number[];
  initNoiseSigma: number;
}

export function referenceRuns(): string[] {
  return existsSync(SCHEDULER_REFERENCE_DIR) ? readdirSync(SCHEDULER_REFERENCE_DIR).sort() : [];
}

export function readManifest(run: string): SchedulerManifest {
  return readPythonJson(join(SCHEDULER_REFERENCE_DIR, run, 'manifest.json')) as SchedulerManifest;
}

export function readF32(run: string, file: string): Tensor<'float32'> {
  return readNpy(join(SCHEDULER_REFERENCE_DIR, run, file)) as Tensor<'float32'>;
}

export function stepFile(step: number, name: string): string {
  return `steps/${String(step).padStart(3, '0')}/${name}.npy`;
}

export function readTimestep(run: string, step: number): number {
  return toFloat64(readNpy(join(SCHEDULER_REFERENCE_DIR, run, stepFile(step, 'timestep'))))[0];
}

const f = Math.fround;

/**
 * The manifests' stand-in model, 0.3*x*cos(t/73) + 0.2*sin(1.7*x + t/211), as
 * torch 1.13 evaluated it: t a Python float (cos(t/73) and t/211 in double, then
 * rounded when they meet the float32 tensor), every tensor op in float32, and
 * sin as SLEEF's (sleefSinf) — bit-identical to every noise_pred of the shared
 * references.
 */
export function dummyModel(x: Tensor<'float32'>, t: number): Tensor<'float32'> {
  const c = f(Math.cos(t / 73));
  const shift = f(t / 211);
  const a = f(0.3);
  const b = f(0.2);
  const k = f(1.7);
  return float32(x.dims, x.data.map((v) => f(f(f(a * v) * c) + f(b * sleefSinf(f(f(k * v) + shift))))));
}

export function maxAbs(a: Tensor<'float32'>, b: Tensor<'float32'>): number {
  if (a.data.length !== b.data.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export interface StepReport {
  timestep: number;
  refTimestep: number;
  latentModelInput: number;
  latents: number;
}

/**
 * free-running: each step feeds the previous own latents and our own model
 * output. teacher-forced: each step starts from the reference's latents and
 * noise_pred, so it measures one scheduler step alone.
 */
export function driveReference(
  run: string,
  scheduler: Scheduler,
  mode: 'free-running' | 'teacher-forced',
  generator?: NoiseGenerator,
): StepReport[] {
  const manifest = readManifest(run);
  scheduler.setTimesteps(manifest.pipeline.steps);
  const initial = readF32(run, 'latents/initial.npy');
  const sigma = f(scheduler.initNoiseSigma);
  let latents = float32(initial.dims, initial.data.map((v) => f(v * sigma)));
  const reports: StepReport[] = [];
  scheduler.timesteps.forEach((t, i) => {
    if (mode === 'teacher-forced' && i > 0) latents = readF32(run, stepFile(i - 1, 'latents'));
    const input = scheduler.scaleModelInput(latents, t);
    const noisePred = mode === 'teacher-forced' ? readF32(run, stepFile(i, 'noise_pred')) : dummyModel(input, t);
    latents = scheduler.step(noisePred, t, latents, generator);
    reports.push({
      timestep: t,
      refTimestep: readTimestep(run, i),
      latentModelInput: maxAbs(input, readF32(run, stepFile(i, 'latent_model_input'))),
      latents: maxAbs(latents, readF32(run, stepFile(i, 'latents'))),
    });
  });
  return reports;
}

export function worst(reports: readonly StepReport[], key: 'latentModelInput' | 'latents'): number {
  return Math.max(...reports.map((r) => r[key]));
}

/** The generator as diffusers' run left it after drawing the initial latents (checked against the file). */
export function generatorAfterInitial(run: string, make: (seed: number) => NoiseGenerator): { generator: NoiseGenerator; initialMaxAbs: number } {
  const manifest = readManifest(run);
  const generator = make(manifest.pipeline.seed);
  const initial = readF32(run, 'latents/initial.npy');
  const drawn = generator.randn(initial.dims);
  return { generator, initialMaxAbs: maxAbs(drawn, initial) };
}
