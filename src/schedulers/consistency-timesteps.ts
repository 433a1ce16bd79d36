/**
 * The skipping-step timesteps of consistency-distilled schedulers (LCMScheduler and TCDScheduler share them in
 * diffusers 0.27.2): the `original_inference_steps` "origin" timesteps spaced T / original apart, then `n` of them
 * picked at floor(linspace(0, original, n, endpoint=False)).
 */
import { UsageError } from '../errors.ts';
import { checkStepCount } from './config.ts';
import { linspace } from './numpy-like.ts';

export function consistencyTimesteps(n: number, trainSteps: number, originalSteps: number, className: string, label: string): number[] {
  checkStepCount(n, trainSteps, className);
  if (n > originalSteps) {
    throw new UsageError(`--steps (${n}) cannot exceed the ${label} config's original_inference_steps (${originalSteps})`);
  }
  const k = Math.floor(trainSteps / originalSteps);
  const origin = Array.from({ length: originalSteps }, (_, i) => (i + 1) * k - 1).reverse();
  return linspace(0, origin.length, n, false).map((x) => origin[Math.floor(x)]);
}
