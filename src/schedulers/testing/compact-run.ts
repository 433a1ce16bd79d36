/**
 * Scheduler-only reference runs in the compact layout of
 * scripts/reference/schedulers*.py (test/reference/schedulers/runs/<run>/):
 * diffusers 0.27.2 driven as StableDiffusionPipeline drives a scheduler, with
 * a stand-in model, tiny latents stacked per run. `checkRun` replays a run
 * free-running through lockstep's scheduler and measures every step.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../tensor/npy.ts';
import { type Tensor, float32, slice0 } from '../../tensor/tensor.ts';
import { readPythonJson } from '../../util/json.ts';
import { REPO_ROOT } from '../../testing/paths.ts';
import { TorchCpuGenerator } from '../../rng/index.ts';
import { createScheduler } from '../registry.ts';
import type { Scheduler, SchedulerConfig } from '../types.ts';
import { dummyModel } from './reference-run.ts';

export const COMPACT_RUNS_DIR = join(REPO_ROOT, 'test/reference/schedulers/runs');

export interface CompactManifest {
  className: string;
  /** The config the run was built from (SD's base config plus the options under test). */
  configGiven: SchedulerConfig;
  steps: number;
  seed: number;
  shape: number[];
  timesteps: number[];
  timestepDtype: 'int64' | 'float32';
  initNoiseSigma: number;
  /** Whether diffusers' step() takes `generator` (the pipeline then passes its own). */
  generatorPassedToStep: boolean;
  /** "rational-v1" (see rationalModel); absent: the shared references' sin model. */
  dummyModel?: string;
}

const f = Math.fround;

/**
 * The runs' stand-in model, (0.3·x)·cos(t/73) + 0.2·(x / (1 + x·x)): only
 * float32 + · / on the tensor, which IEEE makes identical everywhere (cos is
 * taken once per step in float64), so a run's differences are the scheduler's.
 */
export function rationalModel(x: Tensor<'float32'>, t: number): Tensor<'float32'> {
  const c = f(Math.cos(t / 73));
  const a = f(0.3);
  const b = f(0.2);
  return float32(x.dims, x.data.map((v) => f(f(f(a * v) * c) + f(b * f(v / f(1 + f(v * v)))))));
}

export function compactRuns(dir = COMPACT_RUNS_DIR): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export function readCompactManifest(run: string, dir = COMPACT_RUNS_DIR): CompactManifest {
  return readPythonJson(join(dir, run, 'manifest.json')) as CompactManifest;
}

export interface RunCheck {
  timesteps: readonly number[];
  refTimesteps: readonly number[];
  /** max(1, max|ref latents|) over the run's finite values: the tolerance scale. */
  scale: number;
  /** Worst |lockstep − diffusers| over every step's latents (and model inputs), divided by `scale`. */
  worstRelative: number;
  /** The step where the worst latents difference is (-1: the initial latents). */
  worstStep: number;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    // Equal values count as equal even when infinite (diffusers itself can end a run at ±inf).
    const d = a[i] === b[i] ? 0 : Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Replays `run` free-running: lockstep's own latents and the stand-in model's output on them, every step. */
export function checkRun(run: string, dir = COMPACT_RUNS_DIR, make?: (m: CompactManifest) => Scheduler): RunCheck {
  const m = readCompactManifest(run, dir);
  const refLatents = readNpy(join(dir, run, 'latents.npy')) as Tensor<'float32'>;
  const inputsFile = join(dir, run, 'model_input.npy');
  const refInputs = existsSync(inputsFile) ? (readNpy(inputsFile) as Tensor<'float32'>) : null;
  let scale = 1;
  for (const v of refLatents.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));

  const scheduler = make ? make(m) : createScheduler(m.className, m.configGiven);
  const model = m.dummyModel === 'rational-v1' ? rationalModel : dummyModel;
  scheduler.setTimesteps(m.steps);
  const generator = new TorchCpuGenerator(m.seed);
  const sigma = Math.fround(scheduler.initNoiseSigma);
  const initial = generator.randn(m.shape);
  let latents = float32(initial.dims, initial.data.map((v) => Math.fround(v * sigma)));
  let worst = maxAbsDiff(latents.data, slice0(refLatents, 0).data);
  let worstStep = -1;
  scheduler.timesteps.forEach((t, i) => {
    const input = scheduler.scaleModelInput(latents, t);
    // Without model_input.npy, diffusers' scale_model_input returned its input unchanged.
    const refInput = refInputs ? slice0(refInputs, i).data : latents.data;
    worst = Math.max(worst, maxAbsDiff(input.data, refInput));
    latents = scheduler.step(model(input, t), t, latents, m.generatorPassedToStep ? generator : undefined);
    const d = maxAbsDiff(latents.data, slice0(refLatents, i + 1).data);
    if (d > worst) {
      worst = d;
      worstStep = i;
    }
  });
  return { timesteps: scheduler.timesteps, refTimesteps: m.timesteps, scale, worstRelative: worst / scale, worstStep };
}
