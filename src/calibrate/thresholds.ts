/**
 * Calibrated tolerances: a multiple K of the measured noise floor, never
 * tighter than a small absolute floor ε (a bit-exact floor of 0 must not
 * become a threshold of 0):
 *   relL2  ≤ max(K · floorRelL2, ε_rel)
 *   cosine ≥ 1 − max(K · (1 − floorCosine), ε_cos)
 * Written in the nested shape `loadThresholdsFile` reads.
 */
import type { Floors } from './floor.ts';

export interface CalibrationRule {
  factor: number;
  epsRelL2: number;
  epsCosine: number;
}

/** ε_rel ≈ a few float32 ulps of relative error; ε_cos ≈ ε_rel²/2 (1 − cos ≈ relL2²/2 for small errors). */
export const DEFAULT_RULE: CalibrationRule = { factor: 10, epsRelL2: 1e-6, epsCosine: 5e-13 };

export type NestedThresholds = Record<string, Record<string, { cosine: number; relL2: number }>>;

export function thresholdsFromFloors(floors: Floors, rule: CalibrationRule = DEFAULT_RULE): NestedThresholds {
  const out: NestedThresholds = {};
  for (const [key, f] of Object.entries(floors)) {
    const [scope, tensor] = key.split('.');
    out[scope] ??= {};
    out[scope][tensor] = {
      cosine: 1 - Math.max(rule.factor * Math.max(0, 1 - f.cosine), rule.epsCosine),
      relL2: Math.max(rule.factor * f.relL2, rule.epsRelL2),
    };
  }
  return out;
}
