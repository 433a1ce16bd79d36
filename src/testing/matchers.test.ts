/** The custom matchers: pass/fail and what their failure messages show. */
import { describe, expect, it } from 'vitest';
import { float32 } from '../tensor/tensor.ts';
import type { GateResult, ReportDocument } from '../report/schema.ts';
import { toMatchReference, toPassGates } from './matchers.ts';

const gate = (step: number, passed: boolean, actual: number): GateResult => ({
  id: `step[${step}].teacherForced.noisePred.cosine`, scope: 'teacherForced', tensor: 'noisePred', metric: 'cosine',
  op: '>=', threshold: 0.999, actual, passed, step,
});
const report = (gates: GateResult[]): ReportDocument =>
  ({ verdict: gates.every((g) => g.passed) ? 'pass' : 'fail', complete: true, error: null, gates, firstDivergentStep: gates.find((g) => !g.passed)?.step ?? null }) as ReportDocument;

describe('toPassGates', () => {
  it('passes a passing report and explains a failing one with its first failing step', () => {
    expect(report([gate(0, true, 1)])).toPassGates();
    const r = toPassGates(report([gate(0, true, 1), gate(3, false, 0.9981), gate(4, false, 0.99)]));
    expect(r.pass).toBe(false);
    expect(r.message()).toContain('first failing step: 3');
    expect(r.message()).toContain('| teacherForced.noisePred.cosine | step 3 teacherForced.noisePred cosine 0.9981 < 0.999 | 2/3 |');
    expect(report([gate(1, false, 0.5)])).not.toPassGates();
  });
});

describe('toMatchReference', () => {
  const ref = float32([4], [1, 2, 3, 4]);
  it('passes within bounds and names the broken bound otherwise', () => {
    expect(float32([4], [1, 2, 3, 4.00001])).toMatchReference(ref, { cosine: 0.9999, maxAbs: 1e-4 });
    const r = toMatchReference(float32([4], [1, 2, 3, 4.5]), ref, { cosine: 0.9999, maxAbs: 1e-4 });
    expect(r.pass).toBe(false);
    expect(r.message()).toMatch(/maxAbs 0\.5 > 0\.0001/);
    expect(r.message()).toContain('at [3]');
    expect(float32([4], [1, 2, 3, NaN])).not.toMatchReference(ref, { maxAbs: 1 });
  });
});
