/**
 * Gates and verdict: pure functions over a report's metrics and a set of
 * thresholds. This is both how the engine reaches its verdict and how
 * `lockstep report DIR` re-checks a stored report without re-running models.
 */
import type {
  Finding,
  GateResult,
  GateScope,
  MetricSet,
  ReportDocument,
  StepRecord,
  Thresholds,
} from '../report/schema.ts';
import { COMPONENT_LABELS, type ComponentCheck, UPSTREAM_CHECKS } from '../report/schema.ts';
import { SCOPE_TENSORS, getBound, metricsFor, opFor, type ThresholdScope } from './slots.ts';
import { nonFiniteFindings } from './nonfinite.ts';

export interface Evaluation {
  gates: GateResult[];
  verdict: 'pass' | 'fail';
  firstDivergentStep: number | null;
  /** Findings derived from the gates (source "gates"). */
  findings: Finding[];
}

/** A compared quantity: a tensor's metric set, or the final image's PSNR/SSIM. */
type Measured = MetricSet | { psnr: number; ssim: number };

interface Subject {
  scope: ThresholdScope;
  tensor: string;
  measured: Measured | null;
  step?: StepRecord;
}

export function evaluateGates(report: ReportDocument, thresholds: Thresholds): Evaluation {
  const subjects = subjectsOf(report);
  const gates = subjects.flatMap((s) => gatesFor(s, thresholds));
  const health = referenceHealthGate(subjects);
  if (health) gates.push(health);
  const findings: Finding[] = [];
  const divergence = firstDivergence(report, gates);
  if (divergence) findings.push(divergence);
  findings.push(...failingComponentFindings(gates), ...nonFiniteFindings(report), ...completenessFindings(report, gates));
  const allPassed = gates.every((g) => g.passed);
  return {
    gates,
    verdict: report.complete && allPassed && gates.length > 0 ? 'pass' : 'fail',
    firstDivergentStep: divergence?.step ?? null,
    findings,
  };
}

/** A copy of the report re-judged with `thresholds`: engine findings kept, gate findings recomputed. */
export function applyGates(report: ReportDocument, thresholds: Thresholds = report.thresholds): ReportDocument {
  const ev = evaluateGates(report, thresholds);
  const engineFindings = report.findings.filter((f) => f.source !== 'gates');
  return {
    ...report,
    thresholds,
    gates: ev.gates,
    verdict: ev.verdict,
    firstDivergentStep: ev.firstDivergentStep,
    findings: [...ev.findings, ...engineFindings],
  };
}

/** Everything gated, in execution order. */
function subjectsOf(r: ReportDocument): Subject[] {
  const out: Subject[] = UPSTREAM_CHECKS.map((tensor) => ({ scope: 'components', tensor, measured: r.components[tensor] }));
  for (const step of r.steps) {
    for (const tensor of SCOPE_TENSORS.teacherForced) {
      out.push({ scope: 'teacherForced', tensor, measured: step.teacherForced[tensor as keyof StepRecord['teacherForced']], step });
    }
    for (const tensor of SCOPE_TENSORS.freeRunning) {
      out.push({ scope: 'freeRunning', tensor, measured: step.freeRunning[tensor as keyof StepRecord['freeRunning']], step });
    }
  }
  out.push(
    { scope: 'final', tensor: 'latents', measured: r.final.latents },
    { scope: 'final', tensor: 'decoded', measured: r.final.decoded },
    { scope: 'final', tensor: 'image', measured: r.final.image },
    { scope: 'components', tensor: 'vaeDecoder', measured: r.components.vaeDecoder },
  );
  return out;
}

function gatesFor(s: Subject, thresholds: Thresholds): GateResult[] {
  if (!s.measured) return [];
  const gates: GateResult[] = [];
  for (const metric of metricsFor(s.tensor)) {
    const threshold = getBound(thresholds, { scope: s.scope, tensor: s.tensor, metric });
    if (threshold === null) continue;
    const actual = actualValue(s.measured, metric);
    if (actual === undefined) continue; // not measured: a 1.0 report has no allclose
    const op = opFor(metric);
    const passed = isIdentical(s.measured) || (op === '>=' ? actual >= threshold : actual <= threshold);
    const prefix = s.step ? `step[${s.step.index}].` : '';
    gates.push({
      id: `${prefix}${s.scope}.${s.tensor}.${metric}`,
      scope: (s.scope === 'components' ? 'component' : s.scope) satisfies GateScope,
      tensor: s.tensor,
      metric,
      op,
      threshold,
      actual,
      passed,
      ...(s.step ? { step: s.step.index } : {}),
    });
  }
  return gates;
}

/**
 * `reference.nonFinite`: NaN and ±Infinity in the reference's compared tensors, which must be 0.
 * Metrics leave non-finite positions out, so without this gate an all-NaN reference would compare
 * as if it matched; a broken reference never passes. Not a threshold: it cannot be switched off.
 */
function referenceHealthGate(subjects: Subject[]): GateResult | null {
  const measured = subjects.flatMap((s) => (s.measured && 'nanCount' in s.measured ? [s.measured] : []));
  if (measured.length === 0) return null;
  const actual = measured.reduce((n, m) => n + m.nanCount.reference + m.infCount.reference, 0);
  return { id: 'reference.nonFinite', scope: 'reference', tensor: 'tensors', metric: 'nonFinite', op: '<=', threshold: 0, actual, passed: actual === 0 };
}

function actualValue(m: Measured, metric: string): number | undefined {
  if ('nanCount' in m && metric === 'nonFinite') return m.nanCount.candidate + m.infCount.candidate;
  if ('nanCount' in m && metric === 'allclose.fraction') return m.allclose?.fraction;
  return (m as unknown as Record<string, number>)[metric];
}

/** Bit-identical tensors pass every gate, even where a metric is undefined (cosine of zeros is NaN). */
function isIdentical(m: Measured): boolean {
  if (!('maxAbs' in m)) return m.psnr === Infinity;
  const nonFinite = m.nanCount.reference + m.nanCount.candidate + m.infCount.reference + m.infCount.candidate;
  return m.maxAbs === 0 && nonFinite === 0;
}

const MODE_WORDS: Record<string, string> = { teacherForced: 'teacher-forced', freeRunning: 'free-running' };

export function describeGate(g: GateResult): string {
  const where = MODE_WORDS[g.scope] ?? g.scope;
  return `${where} ${g.tensor} ${g.metric} = ${formatNumber(g.actual)} (needs ${g.op} ${formatNumber(g.threshold)})`;
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

/**
 * Where the candidate first departs, in execution order: a check made before the U-Net's steps (text
 * encoders, pooled embeddings, VAE encoder: `component` names it), else the first step with a failing
 * gate (`component` "unet" when the U-Net is off on the reference's own inputs there). `step` is
 * always the first failing step, when one fails.
 */
function firstDivergence(r: ReportDocument, gates: GateResult[]): Finding | null {
  const upstream = UPSTREAM_CHECKS.map((c) => gates.find((g) => !g.passed && g.scope === 'component' && g.tensor === c)).find((g) => g !== undefined);
  const failing = gates.filter((g) => g.step !== undefined && !g.passed);
  if (failing.length === 0 && !upstream) return null;
  const step = failing.length ? Math.min(...failing.map((g) => g.step!)) : undefined;
  const atStep = failing.filter((g) => g.step === step);
  // Teacher-forced failures localise the fault to this step, so name one first.
  const lead = atStep.find((g) => g.scope === 'teacherForced') ?? atStep[0];
  const timestep = r.steps.find((s) => s.index === step)?.timestep;
  const more = atStep.length > 1 ? ` (+${atStep.length - 1} more failing at this step)` : '';
  const stepPart = lead ? `step ${step} (timestep ${timestep}): ${describeGate(lead)}${more}` : '';
  const component = upstream?.tensor ?? (lead?.scope === 'teacherForced' ? 'unet' : undefined);
  const message = upstream
    ? `First divergence in the ${COMPONENT_LABELS[upstream.tensor as ComponentCheck]}, before the U-Net's steps (on the reference's inputs): ${describeGate(upstream)}; ${lead ? `the steps first fail at ${stepPart}` : 'no step gate fails'}`
    : `First divergence at ${stepPart}`;
  return {
    kind: 'first-divergence',
    severity: 'error',
    source: 'gates',
    ...(step !== undefined ? { step } : {}),
    tensor: upstream ? `components.${upstream.tensor}` : `${lead.scope}.${lead.tensor}`,
    ...(component ? { component } : {}),
    message,
  };
}

/** One finding per failing component or final tensor (step failures are summarised by first-divergence). */
function failingComponentFindings(gates: GateResult[]): Finding[] {
  const byTensor = new Map<string, GateResult[]>();
  for (const g of gates) {
    if (g.passed || g.step !== undefined) continue;
    const key = `${g.scope}.${g.tensor}`;
    byTensor.set(key, [...(byTensor.get(key) ?? []), g]);
  }
  return [...byTensor.entries()].map(([key, gs]) => ({
    kind: 'note' as const,
    severity: 'error' as const,
    source: 'gates' as const,
    tensor: key,
    ...(gs[0].scope === 'component' ? { component: gs[0].tensor } : {}),
    message: `${key} fails: ${gs.map(describeGate).join('; ')}`,
  }));
}

function completenessFindings(r: ReportDocument, gates: GateResult[]): Finding[] {
  const out: Finding[] = [];
  if (!r.complete) {
    const reason = r.error ? `: ${r.error}` : '';
    out.push(note('error', `Run incomplete after ${r.steps.length} of ${r.pipeline.steps} steps${reason}`));
  }
  if (gates.length === 0) out.push(note('error', 'Nothing was gated: no tensor was compared, or every threshold is off'));
  return out;
}

function note(severity: Finding['severity'], message: string): Finding {
  return { kind: 'note', severity, source: 'gates', message };
}
