/**
 * Pieces the k-diffusion discrete schedulers (Heun, KDPM2, KDPM2 ancestral,
 * LMS) share beyond the schedule: their prediction types, x0 clipping, and
 * the Karras range that Heun and KDPM2 read from keys they do not declare.
 */
import { UsageError } from '../errors.ts';
import { hiddenConfigValue } from './config.ts';
import { predictX0 } from './euler.ts';
import type { SchedulerConfig } from './types.ts';

export type KPrediction = 'epsilon' | 'v_prediction' | 'sample';
export const K_PREDICTIONS: readonly KPrediction[] = ['epsilon', 'v_prediction', 'sample'];

/** pred_original_sample at noise level sigma, then .clamp(-r, r) with r float32 (null: no clipping). */
export function kPredictX0(prediction: KPrediction, m: number, s: number, sigma: number, clipRange: number | null = null): number {
  const x0 = prediction === 'sample' ? m : predictX0(prediction, m, s, sigma);
  return clipRange === null ? x0 : Math.min(Math.max(x0, -clipRange), clipRange);
}

/**
 * `_convert_to_karras` of Heun and KDPM2 uses `self.config.sigma_min` /
 * `sigma_max` when the config has them: not init arguments of these classes,
 * but from_config registers every other key of the file (an Euler config's
 * sigma_min: null, or a value).
 */
export function readKarrasRange(className: string, file: Readonly<SchedulerConfig>): { sigmaMin: number | null; sigmaMax: number | null } {
  const read = (key: string): number | null => {
    const v = hiddenConfigValue(file, key);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !(v > 0)) {
      throw new UsageError(`scheduler config (${className}): "${key}" must be null or a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  return { sigmaMin: read('sigma_min'), sigmaMax: read('sigma_max') };
}
