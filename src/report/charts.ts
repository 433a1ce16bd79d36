/**
 * Per-step charts for report.html, drawn by chart.js in Node on
 * @napi-rs/canvas (prebuilt Skia) and returned as PNG bytes: one small chart
 * per metric family (1 − cosine, relL2, max |Δ|). Every series has its own
 * bound drawn as a dashed line in its colour, so a failing series shows above
 * (or, for 1 − cosine, above) its own line. Errors span decades, so the y
 * axes are logarithmic; exact zeros and NaN/Infinity cannot sit on a log axis
 * and are marked instead (a hollow circle on the floor, a cross at the top).
 */
import { createCanvas } from '@napi-rs/canvas';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  SubTitle,
  Title,
  type ChartConfiguration,
  type ChartDataset,
  type Plugin,
  type PointStyle,
} from 'chart.js';
import type { ErrorHistogram } from '../metrics/histogram.ts';
import { logRange, logTickLabel, place } from './chart-axis.ts';
import {
  FREE_RUNNING_TENSORS,
  TEACHER_FORCED_TENSORS,
  type MetricSet,
  type Mode,
  type ReportDocument,
  type TensorMetric,
} from './schema.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Title, SubTitle, BarController, BarElement, CategoryScale);

const WIDTH = 620;
const HEIGHT = 400;

/** One metric family: what is plotted, from which metric, and how its bound maps onto the plotted quantity. */
interface Family {
  key: 'cosine' | 'relL2' | 'maxAbs';
  title: string;
  axis: string;
  value: (m: MetricSet) => number;
  bound: (b: number) => number;
}

const FAMILIES: Family[] = [
  { key: 'cosine', title: '1 − cosine per step (lower is better)', axis: '1 − cosine', value: (m) => 1 - m.cosine, bound: (b) => 1 - b },
  { key: 'relL2', title: 'relative L2 error per step', axis: 'relL2 = ‖cand − ref‖ / ‖ref‖', value: (m) => m.relL2, bound: (b) => b },
  { key: 'maxAbs', title: 'max |cand − ref| per step', axis: 'max |Δ|', value: (m) => m.maxAbs, bound: (b) => b },
];

interface Series {
  mode: Mode;
  tensor: string;
  color: string;
}

/** Always charted when compared; any other tensor is added to a chart when one of its gates in that family fails. */
const MAIN: Series[] = [
  { mode: 'teacherForced', tensor: 'noisePred', color: '#1f77b4' },
  { mode: 'teacherForced', tensor: 'guidanceDelta', color: '#9467bd' },
  { mode: 'freeRunning', tensor: 'noisePred', color: '#ff7f0e' },
  { mode: 'freeRunning', tensor: 'latents', color: '#2ca02c' },
];
const EXTRA_COLORS = ['#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#d62728'];
const MODE_WORD: Record<Mode, string> = { teacherForced: 'teacher-forced', freeRunning: 'free-running' };
const POINT: Record<Mode, PointStyle> = { teacherForced: 'circle', freeRunning: 'triangle' };

export interface StepCharts {
  cosine: Buffer;
  relL2: Buffer;
  maxAbs: Buffer;
}

/** The three charts, or null when no step was compared. */
export async function renderStepCharts(r: ReportDocument): Promise<StepCharts | null> {
  if (r.steps.length === 0) return null;
  const [cosine, relL2, maxAbs] = await Promise.all(FAMILIES.map((f) => drawChart(r, f)));
  return { cosine, relL2, maxAbs };
}

const metricOf = (r: ReportDocument, s: Series, step: number): MetricSet | null =>
  (r.steps[step][s.mode] as Record<string, MetricSet | null>)[s.tensor] ?? null;

/** The main series that were compared, plus every other tensor failing a gate of this family. */
export function seriesFor(r: ReportDocument, family: Family['key']): Series[] {
  const compared = (s: Series) => r.steps.some((_, i) => metricOf(r, s, i));
  const out = MAIN.filter(compared);
  let extra = 0;
  const all: Series[] = [
    ...TEACHER_FORCED_TENSORS.map((tensor) => ({ mode: 'teacherForced' as const, tensor })),
    ...FREE_RUNNING_TENSORS.map((tensor) => ({ mode: 'freeRunning' as const, tensor })),
  ].map((s) => ({ ...s, color: '' }));
  for (const s of all) {
    if (out.some((o) => o.mode === s.mode && o.tensor === s.tensor)) continue;
    const fails = r.gates.some((g) => !g.passed && g.scope === s.mode && g.tensor === s.tensor && g.metric === family);
    if (fails) out.push({ ...s, color: EXTRA_COLORS[extra++ % EXTRA_COLORS.length] });
  }
  return out;
}

function boundOf(r: ReportDocument, s: Series, family: Family): number | null {
  const t = (r.thresholds[s.mode] as Record<string, Partial<Record<TensorMetric, number | null>>>)[s.tensor];
  const b = t?.[family.key];
  return b === undefined || b === null ? null : family.bound(b);
}

type Points = Array<{ x: number; y: number } | { x: number; y: null }>;

async function drawChart(r: ReportDocument, family: Family): Promise<Buffer> {
  const series = seriesFor(r, family.key);
  const steps = r.steps.map((s) => s.index);
  const placed = series.map((s) => r.steps.map((_, i) => {
    const m = metricOf(r, s, i);
    return m ? place(family.value(m)) : null;
  }));
  const bounds = series.map((s) => boundOf(r, s, family));
  const range = logRange([
    ...placed.flat().flatMap((p) => (p?.kind === 'value' ? [p.y] : [])),
    ...bounds.flatMap((b) => (b !== null && b > 0 ? [b] : [])),
  ]);
  const datasets: ChartDataset<'line', Points>[] = [];
  let zeros = false;
  let nonFinite = false;
  series.forEach((s, k) => {
    const label = `${MODE_WORD[s.mode]} ${s.tensor}`;
    const line: Points = placed[k].map((p, i) => ({ x: steps[i], y: p?.kind === 'value' ? p.y : null }));
    datasets.push({ label, data: line, borderColor: s.color, backgroundColor: s.color, borderWidth: 2, pointStyle: POINT[s.mode], pointRadius: r.steps.length > 60 ? 0 : 4, spanGaps: false });
    const b = bounds[k];
    if (b !== null && b > 0) {
      datasets.push({ label: `bound: ${label}`, data: [{ x: steps[0], y: b }, { x: steps.at(-1)!, y: b }], borderColor: s.color, borderDash: [7, 5], borderWidth: 1.5, pointRadius: 0 });
    }
    const marks = (kind: 'zero' | 'nonfinite', y: number): Points =>
      placed[k].flatMap((p, i) => (p?.kind === kind ? [{ x: steps[i], y }] : []));
    const z = marks('zero', range.min);
    const n = marks('nonfinite', range.max);
    zeros ||= z.length > 0;
    nonFinite ||= n.length > 0;
    if (z.length) datasets.push({ label: `zero: ${label}`, data: z, showLine: false, pointStyle: 'circle', pointRadius: 5, borderColor: s.color, backgroundColor: '#ffffff', borderWidth: 2, clip: false });
    if (n.length) datasets.push({ label: `non-finite: ${label}`, data: n, showLine: false, pointStyle: 'crossRot', pointRadius: 8, borderColor: s.color, borderWidth: 3, clip: false });
  });
  // Legend-only keys for the markers, in grey.
  if (zeros) datasets.push({ label: 'exactly 0 (on the floor)', data: [], pointStyle: 'circle', borderColor: '#555', backgroundColor: '#ffffff', borderWidth: 2 });
  if (nonFinite) datasets.push({ label: 'NaN or ±∞ (at the top)', data: [], pointStyle: 'crossRot', borderColor: '#555', borderWidth: 3 });
  const config: ChartConfiguration<'line', Points, number> = {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: family.title, font: { size: 15 } },
        subtitle: { display: true, text: "circles: teacher-forced · triangles: free-running · dashed: each series' own bound", color: '#555', padding: { bottom: 6 } },
        legend: {
          position: 'bottom',
          labels: { usePointStyle: true, boxHeight: 7, filter: (item) => !/^(bound|zero|non-finite): /.test(item.text) },
        },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'denoising step' }, ticks: { precision: 0 }, min: steps[0], max: Math.max(steps.at(-1)!, steps[0] + 1) },
        y: { type: 'logarithmic', min: range.min, max: range.max, title: { display: true, text: `${family.axis} (log scale)` }, ticks: { callback: logTickLabel(range), autoSkip: false } },
      },
    },
    plugins: [whiteBackground],
  };
  const canvas = createCanvas(WIDTH, HEIGHT);
  // chart.js types expect a DOM context; Skia's context implements the same drawing API.
  const chart = new Chart(canvas.getContext('2d') as unknown as CanvasRenderingContext2D, config);
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}

/** Bars of the |Δ| histogram on log-spaced bins; the title names the step and tensor. */
export async function renderHistogram(h: ErrorHistogram, title: string): Promise<Buffer> {
  const labels = h.counts.map((_, i) => {
    const exp = h.lowExponent + i / h.binsPerDecade;
    return Number.isInteger(exp) ? `1e${exp}` : '';
  });
  const config: ChartConfiguration<'bar', number[], string> = {
    type: 'bar',
    data: { labels, datasets: [{ label: 'elements', data: h.counts, backgroundColor: '#1f77b4', categoryPercentage: 1, barPercentage: 0.92 }] },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: title, font: { size: 15 } },
        subtitle: { display: true, text: `${h.binsPerDecade} bins per decade; not drawn: ${h.zeros} exactly 0, ${h.nonFinite} NaN/±∞`, color: '#555' },
        legend: { display: false },
      },
      scales: {
        x: { type: 'category', title: { display: true, text: '|candidate − reference| (log-spaced bins, lower edge)' }, ticks: { autoSkip: false, maxRotation: 0 } },
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'elements' }, ticks: { precision: 0 } },
      },
    },
    plugins: [whiteBackground as unknown as Plugin<'bar'>],
  };
  const canvas = createCanvas(WIDTH, 320);
  const chart = new Chart(canvas.getContext('2d') as unknown as CanvasRenderingContext2D, config);
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}

export const whiteBackground: Plugin<'line'> = {
  id: 'whiteBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};
