/** Number and settings formatting shared by report.md and report.html. */
import { type BuildInfo, COMPONENT_CHECKS, type ComponentCheck, type GateResult, type MetricSet, type PipelineSettings, type ReportDocument } from './schema.ts';

export const NOT_COMPARED = 'not compared';

/** Cosine near 1 needs many digits before a difference shows. */
export function fmtCosine(x: number | undefined | null): string {
  if (x === undefined || x === null) return '–';
  return Number.isFinite(x) ? x.toFixed(8) : String(x);
}

/** Errors and small quantities: 3 significant digits, scientific when small. */
export function fmtSci(x: number | undefined | null): string {
  if (x === undefined || x === null) return '–';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a < 1e-2 || a >= 1e5 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
}

export function fmtDb(x: number | undefined | null): string {
  if (x === undefined || x === null) return '–';
  return Number.isFinite(x) ? `${x.toFixed(2)} dB` : `${x} dB`;
}

export function describeBackend(b: BuildInfo): string {
  if (!b.backend) return `${b.kind}`;
  const t = (n: number | null) => (n === null ? 'default' : String(n));
  const be = b.backend;
  const onOff = (name: string, v: boolean | undefined) => (v === undefined ? [] : [`${name} ${v ? 'on' : 'off'}`]);
  const memory = [...onOff('arena', be.memArena), ...onOff('mem pattern', be.memPattern), ...onOff('prepacking', be.prepacking)];
  return [`${b.kind}, providers ${be.providers.join(',')}, opt ${be.graphOptimizationLevel}, threads ${t(be.intraOpThreads)}/${t(be.interOpThreads)}`, ...memory].join(', ');
}

export function describePipeline(p: PipelineSettings): string {
  return `${p.scheduler}, ${p.steps} steps, guidance ${p.guidanceScale}, ${p.width}×${p.height}, seed ${p.seed} (${p.noise})`;
}

/** The component checks a report's table lists: the text encoder and the VAE decoder always, the family checks (1.2) when made. */
export function shownComponents(r: ReportDocument): ComponentCheck[] {
  return COMPONENT_CHECKS.filter((c) => c === 'textEncoder' || c === 'vaeDecoder' || r.components[c] !== null);
}

/** Where the divergence starts in a few words: "step 3", "vaeEncoder (before the steps)"; null when nothing diverged. */
export function divergenceWhere(r: ReportDocument): string | null {
  const f = r.findings.find((x) => x.kind === 'first-divergence');
  if (f?.component && f.tensor?.startsWith('components.')) return `${f.component} (before the steps)`;
  return r.firstDivergentStep === null ? null : `step ${r.firstDivergentStep}`;
}

/** Gate results by id, to mark failing cells. */
export function gatesById(r: ReportDocument): Map<string, GateResult> {
  return new Map(r.gates.map((g) => [g.id, g]));
}

/** True when any gate on this (scope.tensor) at this step (or none) failed. */
export function tensorFailed(r: ReportDocument, scopeTensor: string, step?: number): boolean {
  const prefix = step === undefined ? `${scopeTensor}.` : `step[${step}].${scopeTensor}.`;
  return r.gates.some((g) => !g.passed && g.id.startsWith(prefix));
}

/** True when the gate on exactly this metric of (scope.tensor) at this step (or none) failed. */
export function metricFailed(r: ReportDocument, scopeTensor: string, metric: string, step?: number): boolean {
  const id = `${step === undefined ? '' : `step[${step}].`}${scopeTensor}.${metric}`;
  return r.gates.some((g) => !g.passed && g.id === id);
}

export interface WorstStep {
  index: number;
  timestep: number;
  tensor: string;
  relL2: number;
}

/** The step whose teacher-forced noise prediction is furthest off (else free-running latents). */
export function worstStep(r: ReportDocument): WorstStep | null {
  let worst: WorstStep | null = null;
  for (const s of r.steps) {
    const [tensor, m]: [string, MetricSet | null] = s.teacherForced.noisePred
      ? ['teacher-forced noisePred', s.teacherForced.noisePred]
      : ['free-running latents', s.freeRunning.latents];
    if (!m) continue;
    const v = Number.isNaN(m.relL2) ? Infinity : m.relL2;
    if (!worst || v > worst.relL2) worst = { index: s.index, timestep: s.timestep, tensor, relL2: v };
  }
  return worst;
}

export function verdictWord(r: ReportDocument): string {
  return r.verdict === 'pass' ? 'PASS' : 'FAIL';
}
