/**
 * diffusers' step-index bookkeeping (`_init_step_index`): the first call
 * locates the timestep in the schedule — taking the second match when it
 * appears twice, so a schedule starting in the middle does not skip a sigma —
 * and every `step` then advances by one.
 */
import { UsageError } from '../errors.ts';

export class StepIndex {
  private index: number | null = null;

  reset(): void {
    this.index = null;
  }

  /** Current index, located from `timestep` on first use. */
  current(timesteps: readonly number[], timestep: number, className: string): number {
    if (this.index === null) this.index = indexForTimestep(timesteps, timestep, className);
    return this.index;
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
