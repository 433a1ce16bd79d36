/**
 * The one check that a run's timesteps lie inside the noise schedule the
 * model was trained on (0 … num_train_timesteps − 1). Some spacings produce a
 * timestep past the end for large step counts — DDIM "leading" with
 * steps_offset 1 at 1000 steps starts at 1000 — and diffusers then indexes its
 * alphas out of range: the reference itself goes NaN and the candidate gets
 * the blame. Refused before anything runs, naming the flag and the numbers.
 */
import { UsageError } from '../errors.ts';
import { createScheduler } from '../schedulers/index.ts';
import type { Scheduler, SchedulerConfig } from '../schedulers/types.ts';

/** Throws when a timestep of `scheduler` (after setTimesteps(steps)) falls outside the training range. */
export function checkTrainingRange(scheduler: Scheduler, steps: number, schedulerArg: string, config: SchedulerConfig): void {
  const train = trainingSteps(scheduler);
  const outside = scheduler.timesteps.find((t) => !(t >= 0 && t <= train - 1));
  if (outside === undefined) return;
  const c = scheduler.config;
  const fewer = largestInRange(schedulerArg, config, steps, train);
  throw new UsageError(
    `--steps ${steps} with the ${scheduler.name} scheduler (timestep_spacing ${String(c.timestep_spacing ?? 'n/a')}, steps_offset ${String(c.steps_offset ?? 0)}): ` +
      `timestep ${outside} is outside the training range 0–${train - 1} (num_train_timesteps ${train}): the U-Net never saw it, and diffusers' alpha-indexed schedulers read past their noise schedule; ` +
      (fewer ? `use --steps ${fewer} or fewer` : 'use fewer steps'),
  );
}

function trainingSteps(scheduler: Scheduler): number {
  const n = Number(scheduler.config.num_train_timesteps ?? 1000);
  return Number.isFinite(n) && n > 0 ? n : 1000;
}

/** The largest step count below `steps` whose timesteps all fit (searched over the 64 below it), for the message. */
function largestInRange(schedulerArg: string, config: SchedulerConfig, steps: number, train: number): number | null {
  for (let n = steps - 1; n >= Math.max(1, steps - 64); n--) {
    try {
      const s = createScheduler(schedulerArg, config);
      s.setTimesteps(n);
      if (s.timesteps.every((t) => t >= 0 && t <= train - 1)) return n;
    } catch {
      // This step count is refused by the scheduler itself: try the next.
    }
  }
  return null;
}
