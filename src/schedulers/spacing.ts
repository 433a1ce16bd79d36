/**
 * Timestep spacings of diffusers' `set_timesteps` ("Common Diffusion Noise
 * Schedules and Sample Steps are Flawed", table 2), numpy float64 arithmetic.
 * Each returns the schedule in descending order, before any cast.
 */
import { arange, linspace, roundHalfEven } from './numpy-like.ts';

/** (arange(0, n) * (T // n)).round()[::-1] + steps_offset */
export function leadingTimesteps(T: number, n: number, stepsOffset: number): number[] {
  const ratio = Math.floor(T / n);
  return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
}

/** round(arange(T, 0, -T / n)) - 1 */
export function trailingTimesteps(T: number, n: number): number[] {
  return arange(T, 0, -T / n).map((t) => roundHalfEven(t) - 1);
}

/** linspace(0, T - 1, n)[::-1], unrounded (callers round or cast as their class does) */
export function linspaceTimesteps(T: number, n: number): number[] {
  return linspace(0, T - 1, n).reverse();
}
