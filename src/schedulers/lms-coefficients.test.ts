import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readPythonJson } from '../util/json.ts';
import { lmsCoefficient } from './lms-coefficients.ts';
import { STACKED_REFERENCE_DIR } from './testing/stacked-reference.ts';

interface Schedules {
  schedules: { sigmas: number[]; cases: { t: number; order: number; currentOrder: number; value: number }[] }[];
}

describe('LMS coefficients against scipy.integrate.quad (via diffusers 0.27.2 get_lms_coefficient)', () => {
  it('match scipy bit for bit on 4 schedules (384 coefficients)', () => {
    const data = readPythonJson(join(STACKED_REFERENCE_DIR, 'lms_coefficients.json')) as Schedules;
    let worst = 0;
    let count = 0;
    for (const s of data.schedules) {
      const sigmas = Float32Array.from(s.sigmas);
      for (const c of s.cases) {
        const ours = lmsCoefficient(sigmas, c.order, c.t, c.currentOrder);
        worst = Math.max(worst, Math.abs(ours - c.value) / Math.max(Math.abs(c.value), 1e-300));
        count++;
      }
    }
    console.log(`LMS coefficients: ${count} cases, worst relative difference vs scipy ${worst.toExponential(2)}`);
    expect(count).toBeGreaterThan(300);
    expect(worst).toBeLessThanOrEqual(1e-14);
  });
});
