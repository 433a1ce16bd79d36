/**
 * The skipping-step timesteps of consistency-distilled schedulers (LCMScheduler and TCDScheduler share them in
 * diffusers 0.27.2): the `original_inference_steps` "origin" timesteps spaced T / original apart, then `n` of them
 * picked at floor(linspace(0, original, n, endpoint=False)).
 *
 * `strength` is set_timesteps' own (LatentConsistencyModelImg2ImgPipeline passes it): the origin schedule stops at
 * int(original_inference_steps · strength), and all `n` steps are picked from what is left.
 */
import { UsageError } from '../errors.ts';
import { checkStepCount } from './config.ts';
import { linspace } from './numpy-like.ts';

export function consistencyTimesteps(n: number, trainSteps: number, originalSteps: number, className: string, label: string, strength = 1): number[] {
  checkStepCount(n, trainSteps, className);
  const originCount = Math.trunc(originalSteps * strength);
  if (strength !== 1 && Math.floor(originCount / n) < 1) {
    throw new UsageError(
      `--strength ${strength} with --steps ${n}: ${label} image-to-image takes its steps from the first int(original_inference_steps × strength) = ` +
        `int(${originalSteps} × ${strength}) = ${originCount} origin timesteps, fewer than --steps (diffusers refuses it too); ` +
        `lower --steps to ${originCount} or less, or raise --strength to ${n / originalSteps} or more`,
    );
  }
  if (n > originalSteps) {
    throw new UsageError(`--steps (${n}) cannot exceed the ${label} config's original_inference_steps (${originalSteps})`);
  }
  const k = Math.floor(trainSteps / originalSteps);
  const origin = Array.from({ length: originCount }, (_, i) => (i + 1) * k - 1).reverse();
  return linspace(0, origin.length, n, false).map((x) => origin[Math.floor(x)]);
}
