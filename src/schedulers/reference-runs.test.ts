/**
 * Every scheduler-only reference run of test/reference/schedulers/runs/
 * (real diffusers 0.27.2, scripts/reference/schedulers*.py), replayed
 * free-running: timesteps identical, latents within 1e-6 of
 * max(1, max|ref|) at every step. A run of an option lockstep refuses must be
 * refused by name instead.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { checkRun, compactRuns, readCompactManifest } from './testing/compact-run.ts';
import { IMPLEMENTATIONS } from './registry.ts';
import type { DiffusersClassName } from './samplers.ts';

/** Runs whose option lockstep refuses, and the key the refusal must name. */
const REFUSED: Readonly<Record<string, RegExp>> = {};

/**
 * Issue #13 asks for 1e-5; lockstep does better (60 of 74 runs bit-identical, the rest ≤ 4e-7 — UniPC's
 * small linear solves and one DPM run), so the test holds it to 1e-6 to catch a regression early.
 */
const TOLERANCE = 1e-6;
const runs = compactRuns();

describe('scheduler-only reference runs of diffusers 0.27.2 (free-running)', () => {
  it('has the runs', () => expect(runs.length).toBeGreaterThan(50));

  it.each(runs)('%s', (run) => {
    const m = readCompactManifest(run);
    const className = m.className as DiffusersClassName;
    // A class not implemented yet must be refused by name (and its runs start counting once it is).
    const refusal = REFUSED[run] ?? (IMPLEMENTATIONS[className] === null ? new RegExp(`${className}.*not implemented by lockstep yet`) : undefined);
    if (refusal) {
      expect(() => checkRun(run)).toThrow(UsageError);
      expect(() => checkRun(run)).toThrow(refusal);
      return;
    }
    const r = checkRun(run);
    expect(r.timesteps).toEqual(r.refTimesteps);
    if (r.worstRelative > TOLERANCE) console.log(`${run}: worst ${r.worstRelative.toExponential(2)} at step ${r.worstStep} of ${m.steps}`);
    expect(r.worstRelative).toBeLessThanOrEqual(TOLERANCE);
  });
});
