/**
 * diffusers' step-index bookkeeping (`_init_step_index`): the first call
 * locates the timestep in the schedule — taking the second match when it
 * appears twice, so a schedule starting in the middle does not skip a sigma —
 * and every `step` then advances by one.
 */
import { UsageError } from '../errors.ts';

export class StepIndex {
  private index: number | null = null;
  private begin: number | null = null;

  reset(): void {
    this.index = null;
    this.begin = null;
  }

  /** diffusers' set_begin_index: the first step starts here instead of locating its timestep. */
  setBegin(index: number): void {
    this.begin = index;
  }

  /** Current index: the begin index or located from `timestep` on first use. */
  current(timesteps: readonly number[], timestep: number, className: string): number {
    if (this.index === null) this.index = this.begin ?? indexForTimestep(timesteps, timestep, className);
    return this.index;
  }

  /** The index add_noise uses: the current step's once stepping began, else the begin index, else located from `timestep`. */
  forAddNoise(timesteps: readonly number[], timestep: number, className: string): number {
    return this.index ?? this.begin ?? indexForTimestep(timesteps, timestep, className);
  }

  advance(): void {
    if (this.index !== null) this.index++;
  }
}

export function indexForTimestep(timesteps: readonly number[], timestep: number, className: string): number {
  const matches: number[] = [];
  timesteps.forEach((t, i) => {
    if (t === timestep) matches.push(i);
  });
  if (matches.length === 0) {
    throw new UsageError(`${className}: timestep ${timestep} is not in the schedule [${timesteps.join(', ')}] (call setTimesteps first)`);
  }
  return matches[matches.length > 1 ? 1 : 0];
}
