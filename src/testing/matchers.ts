/**
 * vitest matchers for lockstep results, registered as a setup file
 * (vitest.config.ts `setupFiles`):
 *   expect(report).toPassGates()
 *   expect(tensor).toMatchReference(refTensor, { cosine: 0.9999, maxAbs: 1e-4 })
 * Failure messages say where it went wrong first, in a few lines.
 */
import { expect } from 'vitest';
import { formatNumber } from '../gates/index.ts';
import { compareTensors } from '../metrics/index.ts';
import type { MetricSet, ReportDocument } from '../report/schema.ts';
import { describeFailure, gateFamilies } from '../suite/families.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Bounds for toMatchReference; cosine/sqnr from below, the rest from above. */
export interface ReferenceBounds {
  cosine?: number;
  sqnr?: number;
  maxAbs?: number;
  l1?: number;
  rmse?: number;
  relL2?: number;
}

interface LockstepMatchers<R = unknown> {
  toPassGates(): R;
  toMatchReference(reference: Tensor, bounds: ReferenceBounds): R;
}

declare module 'vitest' {
  interface Matchers<T = any> extends LockstepMatchers<T> {}
}

type Result = { pass: boolean; message: () => string };

export function toPassGates(report: ReportDocument): Result {
  const failing = report.gates.filter((g) => !g.passed);
  const pass = report.verdict === 'pass';
  return { pass, message: () => (pass ? 'expected the report to fail a gate, but every gate passed' : gatesFailureMessage(report)) };
}

function gatesFailureMessage(r: ReportDocument): string {
  const lines = [`expected the report to pass its gates, verdict: ${r.verdict}`];
  if (!r.complete) lines.push(`run incomplete: ${r.error ?? 'unknown reason'}`);
  if (r.gates.length === 0) lines.push('nothing was gated');
  if (r.firstDivergentStep !== null) lines.push(`first failing step: ${r.firstDivergentStep}`);
  const families = gateFamilies(r.gates).filter((f) => f.failures.length);
  if (families.length) {
    lines.push('', '| gate | first failure | failing |', '| --- | --- | --- |');
    for (const f of families.slice(0, 12)) lines.push(`| ${f.key} | ${describeFailure(f.failures[0])} | ${f.failures.length}/${f.gates.length} |`);
    if (families.length > 12) lines.push(`| … ${families.length - 12} more | | |`);
  }
  return lines.join('\n');
}

const HIGHER = new Set(['cosine', 'sqnr']);

export function toMatchReference(actual: Tensor, reference: Tensor, bounds: ReferenceBounds): Result {
  const m = compareTensors(reference, actual, 'toMatchReference');
  const broken = Object.entries(bounds)
    .filter(([, bound]) => bound !== undefined)
    .filter(([metric, bound]) => violates(m, metric as keyof ReferenceBounds, bound as number));
  const nonFinite = m.nanCount.candidate + m.infCount.candidate;
  const pass = broken.length === 0 && nonFinite === 0;
  const summary = `cosine ${formatNumber(m.cosine)}, maxAbs ${formatNumber(m.maxAbs)} at [${m.maxAbsIndex.join(',')}], relL2 ${formatNumber(m.relL2)}, non-finite ${nonFinite}`;
  return {
    pass,
    message: () =>
      pass
        ? `expected the tensor not to match the reference within ${JSON.stringify(bounds)}, but it does (${summary})`
        : `expected the tensor to match the reference: ${broken.map(([k, b]) => `${k} ${formatNumber(metricValue(m, k))} ${HIGHER.has(k) ? '<' : '>'} ${b}`).join(', ') || 'non-finite values'} (${summary})`,
  };
}

function metricValue(m: MetricSet, k: string): number {
  return (m as unknown as Record<string, number>)[k];
}

function violates(m: MetricSet, metric: keyof ReferenceBounds, bound: number): boolean {
  const v = metricValue(m, metric);
  if (Number.isNaN(v)) return true;
  return HIGHER.has(metric) ? v < bound : v > bound;
}

expect.extend({
  toPassGates(received: ReportDocument) {
    return toPassGates(received);
  },
  toMatchReference(received: Tensor, reference: Tensor, bounds: ReferenceBounds) {
    return toMatchReference(received, reference, bounds);
  },
});
