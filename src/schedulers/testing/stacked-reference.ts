/**
 * The scheduler-only reference runs of test/reference/schedulers/ (made by
 * scripts/reference/schedulers_b.py with diffusers 0.27.2): one folder per
 * run with its manifest, the generator's initial draw, and the
 * latent_model_input / latents of every U-Net call stacked in one array.
 * Drives a lockstep scheduler through a run, free-running or teacher-forced.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../tensor/npy.ts';
import { type Tensor, float32 } from '../../tensor/tensor.ts';
import { readPythonJson } from '../../util/json.ts';
import { REPO_ROOT } from '../../testing/paths.ts';
import { TorchCpuGenerator } from '../../rng/index.ts';
import type { Scheduler, SchedulerConfig } from '../types.ts';
import { createScheduler } from '../registry.ts';
import { TCDScheduler } from '../tcd.ts';
import { dummyModel, maxAbs } from './reference-run.ts';

export const STACKED_REFERENCE_DIR = join(REPO_ROOT, 'test/reference/schedulers/b-runs');

export interface StackedManifest {
  pipeline: { seed: number; steps: number; scheduler: string };
  schedulerClass: string;
  schedulerConfig: SchedulerConfig;
  stepKwargs: { eta?: number };
  timesteps: number[];
  timestepDtype: string;
  initNoiseSigma: number;
}

export interface StackedRun {
  name: string;
  manifest: StackedManifest;
  initial: Tensor<'float32'>;
  /** Per U-Net call. */
  inputs: Tensor<'float32'>[];
  latents: Tensor<'float32'>[];
}

/** Runs of one CLI scheduler name (the folder name up to its first "_" or option "-…"). */
export function stackedRuns(scheduler: string): string[] {
  return readdirSync(STACKED_REFERENCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .filter((n) => readStackedRun(n).manifest.pipeline.scheduler === scheduler)
    .sort();
}

function unstack(t: Tensor<'float32'>): Tensor<'float32'>[] {
  const [n, ...dims] = t.dims;
  const size = dims.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => float32(dims, t.data.slice(i * size, (i + 1) * size)));
}

export function readStackedRun(name: string): StackedRun {
  const dir = join(STACKED_REFERENCE_DIR, name);
  const manifest = readPythonJson(join(dir, 'manifest.json')) as StackedManifest;
  const read = (file: string) => readNpy(join(dir, file)) as Tensor<'float32'>;
  return { name, manifest, initial: read('initial_latents.npy'), inputs: unstack(read('latent_model_input.npy')), latents: unstack(read('latents.npy')) };
}

/** The scheduler the run used, built as `<Class>.from_config(config)`; TCD gets the run's eta. */
export function schedulerFor(m: StackedManifest): Scheduler {
  if (m.schedulerClass === TCDScheduler.className) return new TCDScheduler(m.schedulerConfig, { eta: m.stepKwargs.eta ?? 0 });
  return createScheduler(m.schedulerClass, m.schedulerConfig);
}

export interface StackedReport {
  timesteps: number[];
  initNoiseSigma: number;
  /** Worst |ours − diffusers| over all calls, and the bound 1e-5·max(1, max|ref|) of the worst call. */
  worstInput: number;
  worstLatents: number;
  /** max over calls of |diff| / max(1, max|ref|). */
  worstRelative: number;
  generatorInitialMatches: boolean;
}

/**
 * free-running: our own latents and stand-in model output every call.
 * teacher-forced: each call starts from diffusers' latents of the call before
 * (the scheduler's internal state — Heun's first half, LMS's derivatives —
 * is still its own).
 */
export function driveStacked(run: StackedRun, mode: 'free-running' | 'teacher-forced'): StackedReport {
  const m = run.manifest;
  const scheduler = schedulerFor(m);
  scheduler.setTimesteps(m.pipeline.steps);
  const generator = new TorchCpuGenerator(m.pipeline.seed);
  const drawn = generator.randn(run.initial.dims);
  const sigma = Math.fround(scheduler.initNoiseSigma);
  let latents = float32(run.initial.dims, run.initial.data.map((v) => Math.fround(v * sigma)));
  let worstInput = 0;
  let worstLatents = 0;
  let worstRelative = 0;
  scheduler.timesteps.forEach((t, i) => {
    if (mode === 'teacher-forced' && i > 0) latents = run.latents[i - 1];
    const input = scheduler.scaleModelInput(latents, t);
    latents = scheduler.step(dummyModel(input, t), t, latents, generator);
    const scale = (ref: Tensor<'float32'>) => Math.max(1, ...Array.from(ref.data, Math.abs));
    const di = maxAbs(input, run.inputs[i] ?? float32([0], []));
    const dl = maxAbs(latents, run.latents[i] ?? float32([0], []));
    worstInput = Math.max(worstInput, di);
    worstLatents = Math.max(worstLatents, dl);
    worstRelative = Math.max(worstRelative, di / scale(run.inputs[i]), dl / scale(run.latents[i]));
  });
  return {
    timesteps: [...scheduler.timesteps],
    initNoiseSigma: scheduler.initNoiseSigma,
    worstInput,
    worstLatents,
    worstRelative,
    generatorInitialMatches: maxAbs(drawn, run.initial) === 0,
  };
}

/** Worst relative error over both modes, after checking timesteps and init_noise_sigma exactly. */
export function checkStackedRun(name: string, expectEqual: (actual: unknown, expected: unknown) => void): number {
  const run = readStackedRun(name);
  let worst = 0;
  for (const mode of ['free-running', 'teacher-forced'] as const) {
    const r = driveStacked(run, mode);
    expectEqual(r.generatorInitialMatches, true);
    expectEqual(r.timesteps, run.manifest.timesteps);
    expectEqual(r.initNoiseSigma, run.manifest.initNoiseSigma);
    worst = Math.max(worst, r.worstRelative);
  }
  return worst;
}
