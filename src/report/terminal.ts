/**
 * The few lines `compare` and `run` print when a run ends: the verdict, which
 * metric failed where, the worst teacher-forced and free-running figures with
 * their steps, a one-line diagnosis (this step's own error, accumulated
 * drift, or one component alone), the final image and the report's path.
 * Plain text, no colour: it lands in CI logs.
 */
import { formatNumber } from '../gates/evaluate.ts';
import { fmtDb } from './format.ts';
import { COMPONENT_LABELS, type ComponentCheck, type GateResult, type MetricSet, type Mode, type ReportDocument, UPSTREAM_CHECKS } from './schema.ts';

const MODE_WORD: Record<Mode, string> = { teacherForced: 'teacher-forced', freeRunning: 'free-running' };
/** Failing gate families listed by name; the rest are counted. */
const MAX_FAMILIES = 4;

export function terminalSummary(r: ReportDocument, reportPath?: string): string {
  const lines = [verdictLine(r), ...failedLines(r), worstLine(r, 'teacherForced'), worstLine(r, 'freeRunning'), `diagnosis: ${diagnosis(r)}`, imageLine(r)];
  if (reportPath) lines.push(`report: ${reportPath}`);
  return lines.filter((l): l is string => Boolean(l)).join('\n') + '\n';
}

function verdictLine(r: ReportDocument): string {
  const failed = r.gates.filter((g) => !g.passed).length;
  const div = divergenceWords(r);
  const incomplete = r.complete ? '' : ` (INCOMPLETE after ${r.steps.length} of ${r.pipeline.steps} steps)`;
  return `verdict: ${r.verdict.toUpperCase()}${incomplete}: ${failed} of ${r.gates.length} gates failed${div}`;
}

/** ", first divergence at step 3 (unet)", or in a check made before the steps: ", first divergence in vaeEncoder (before step 0)". */
function divergenceWords(r: ReportDocument): string {
  const f = r.findings.find((x) => x.kind === 'first-divergence');
  if (!f) return r.firstDivergentStep === null ? '' : `, first divergence at step ${r.firstDivergentStep}`;
  if (f.tensor?.startsWith('components.')) return `, first divergence in ${f.component} (before step 0)${f.step !== undefined ? `, first failing step ${f.step}` : ''}`;
  return `, first divergence at step ${f.step}${f.component ? ` (${f.component})` : ''}`;
}

interface Family {
  key: string;
  gates: GateResult[];
}

/** Failing gates grouped by tensor (scope.tensor): at how many steps from which, and each metric's worst value against its bound. */
function failedLines(r: ReportDocument): string[] {
  const families = new Map<string, Family>();
  for (const g of r.gates) {
    if (g.passed) continue;
    const key = `${g.scope === 'component' ? 'components' : g.scope}.${g.tensor}`;
    const f = families.get(key) ?? families.set(key, { key, gates: [] }).get(key)!;
    f.gates.push(g);
  }
  const list = [...families.values()];
  const lines = list.slice(0, MAX_FAMILIES).map((f) => `  failed: ${describeFamily(f)}`);
  if (list.length > MAX_FAMILIES) lines.push(`  failed: … and ${list.length - MAX_FAMILIES} more tensors (report.md lists them)`);
  return lines;
}

function describeFamily(f: Family): string {
  const steps = [...new Set(f.gates.flatMap((g) => (g.step === undefined ? [] : [g.step])))];
  const where = steps.length ? ` at ${steps.length} step${steps.length > 1 ? 's' : ''} from step ${steps[0]}` : '';
  const metrics = [...new Set(f.gates.map((g) => g.metric))].map((metric) => {
    const gs = f.gates.filter((g) => g.metric === metric);
    const worst = gs.reduce((w, g) => (badness(g) > badness(w) ? g : w));
    const at = worst.step !== undefined ? ` at step ${worst.step}` : '';
    return `${metric} ${formatNumber(worst.actual)}${at} (bound ${worst.op} ${formatNumber(worst.threshold)})`;
  });
  return `${f.key}${where}: ${metrics.join(', ')}`;
}

/** How far past its bound a gate is (NaN is worst). */
function badness(g: GateResult): number {
  if (Number.isNaN(g.actual)) return Infinity;
  return g.op === '>=' ? g.threshold - g.actual : g.actual - g.threshold;
}

export interface Extreme {
  tensor: string;
  step: number;
  value: number;
}

/** The tensor each mode is summarised by: its main output (other tensors show up under "failed" when they fail). */
const PRINCIPAL: Record<Mode, readonly string[]> = { teacherForced: ['noisePred', 'noisePredText'], freeRunning: ['latents', 'noisePred'] };

/** The lowest cosine and the largest relL2 over every step of a mode's principal tensor. */
export function extremes(r: ReportDocument, mode: Mode): { cosine: Extreme; relL2: Extreme } | null {
  const records = r.steps.map((s) => s[mode] as Record<string, MetricSet | null>);
  const tensor = PRINCIPAL[mode].find((t) => records.some((rec) => rec[t]));
  if (!tensor) return null;
  let cosine: Extreme | null = null;
  let relL2: Extreme | null = null;
  r.steps.forEach((s, i) => {
    const m = records[i][tensor];
    if (!m) return;
    const cos = Number.isNaN(m.cosine) ? -Infinity : m.cosine;
    const rel = Number.isNaN(m.relL2) ? Infinity : m.relL2;
    if (!cosine || cos < cosine.value) cosine = { tensor, step: s.index, value: cos };
    if (!relL2 || rel > relL2.value) relL2 = { tensor, step: s.index, value: rel };
  });
  return cosine && relL2 ? { cosine, relL2 } : null;
}

function worstLine(r: ReportDocument, mode: Mode): string {
  const e = extremes(r, mode);
  const label = `worst ${MODE_WORD[mode]}:`.padEnd(22);
  if (!e) return `${label} not compared`;
  return `${label} ${e.cosine.tensor} cosine ${fmtCos(e.cosine.value)} at step ${e.cosine.step}, relL2 ${formatNumber(e.relL2.value)} at step ${e.relL2.step}`;
}

/** Cosines near 1 need digits: 8 decimals, as report.md. */
const fmtCos = (x: number) => (Number.isFinite(x) ? x.toFixed(8) : String(x));

function failing(r: ReportDocument, pred: (g: GateResult) => boolean): GateResult[] {
  return r.gates.filter((g) => !g.passed && pred(g));
}

/** Which kind of problem this is, in one sentence, from the gates and the per-mode extremes. */
export function diagnosis(r: ReportDocument): string {
  const nonFinite = r.findings.find((f) => f.kind === 'first-nonfinite');
  if (nonFinite) return nonFinite.message;
  const component = (name: ComponentCheck) => {
    const m = r.components[name];
    return m && failing(r, (g) => g.scope === 'component' && g.tensor === name).length
      ? `the ${COMPONENT_LABELS[name]} alone is off (on the reference's inputs): cos ${fmtCos(m.cosine)}, relL2 ${formatNumber(m.relL2)}`
      : null;
  };
  const tfFail = failing(r, (g) => g.scope === 'teacherForced');
  const frFail = failing(r, (g) => g.scope === 'freeRunning');
  const tf = extremes(r, 'teacherForced');
  const fr = extremes(r, 'freeRunning');
  // The first failing check made before the U-Net's steps (text encoders, pooled embeddings, VAE encoder).
  const text = UPSTREAM_CHECKS.map(component).find((c) => c !== null) ?? null;
  if (text && tfFail.length === 0) return text;
  const last = r.steps.at(-1);
  const drift = fr && last ? driftAt(r, last.index) : null;
  if (tfFail.length) {
    const first = tfFail[0];
    const own = `per-step error: the candidate's U-Net is off on the reference's own inputs from step ${first.step} (${first.tensor} ${first.metric} ${formatNumber(first.actual)}, bound ${first.op} ${formatNumber(first.threshold)})`;
    return [own, text ? `; also ${text}` : '', drift ? `; free-running it reaches ${drift}` : ''].join('');
  }
  if (frFail.length) {
    const perStep = tf ? `per-step error is small (teacher-forced cos ≥ ${fmtCos(tf.cosine.value)}, relL2 ≤ ${formatNumber(tf.relL2.value)})` : 'no teacher-forced comparison ran, so per-step error cannot be told from drift;';
    const grow = fr ? ` drift accumulates to ${fr.relL2.tensor} relL2 ${formatNumber(fr.relL2.value)} by step ${fr.relL2.step}` : '';
    return tf ? `${perStep} but${grow}` : `${perStep}${grow}`;
  }
  const vae = component('vaeDecoder');
  if (vae) return vae;
  const final = failing(r, (g) => g.scope === 'final');
  if (final.length) return `every step is within its bounds, but the final ${final[0].tensor} is not (${final[0].metric} ${formatNumber(final[0].actual)}, bound ${final[0].op} ${formatNumber(final[0].threshold)})`;
  if (!r.complete) return `the run stopped early${r.error ? `: ${r.error}` : ''}`;
  if (r.gates.length === 0) return 'nothing was gated';
  return `every gate passed${tf ? `; per-step error ≤ relL2 ${formatNumber(tf.relL2.value)}` : ''}${drift ? `, free-running ${drift}` : ''}`;
}

/** "latents relL2 0.35 at step 19" for the free-running latents (else noisePred) at a step. */
function driftAt(r: ReportDocument, step: number): string | null {
  const s = r.steps.find((x) => x.index === step);
  const [tensor, m] = s?.freeRunning.latents ? ['latents', s.freeRunning.latents] : ['noisePred', s?.freeRunning.noisePred ?? null];
  return m ? `${tensor} relL2 ${formatNumber(m.relL2)} at step ${step}` : null;
}

function imageLine(r: ReportDocument): string {
  const img = r.final.image;
  if (!img) return 'image: not compared';
  const t = r.thresholds.final.image;
  const bounds = [t.psnr != null ? `PSNR ≥ ${t.psnr} dB` : '', t.ssim != null ? `SSIM ≥ ${t.ssim}` : ''].filter(Boolean).join(', ');
  return `image: PSNR ${fmtDb(img.psnr)}, SSIM ${img.ssim.toFixed(4)}${bounds ? ` (bounds ${bounds})` : ''}`;
}
