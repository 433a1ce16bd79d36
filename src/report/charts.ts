/**
 * Per-step charts for report.html, drawn by chart.js in Node on
 * @napi-rs/canvas (prebuilt Skia) and returned as PNG bytes. Errors span
 * many decades, so both charts use a log axis; cosine is shown as
 * 1 − cosine, where a threshold of 0.9999 becomes the line 1e-4.
 */
import { createCanvas } from '@napi-rs/canvas';
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Title,
  type ChartConfiguration,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import type { MetricSet, ReportDocument, StepRecord } from './schema.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Title);

const WIDTH = 900;
const HEIGHT = 340;
/** Log axes cannot show 0; exact matches are drawn at this floor. */
const FLOOR = 1e-12;

interface Series {
  label: string;
  color: string;
  pick: (s: StepRecord) => MetricSet | null;
}

const SERIES: Series[] = [
  { label: 'teacher-forced noisePred', color: '#1f77b4', pick: (s) => s.teacherForced.noisePred },
  { label: 'teacher-forced guidance delta', color: '#9467bd', pick: (s) => s.teacherForced.guidanceDelta },
  { label: 'free-running noisePred', color: '#ff7f0e', pick: (s) => s.freeRunning.noisePred },
  { label: 'free-running latents', color: '#2ca02c', pick: (s) => s.freeRunning.latents },
];

export interface StepCharts {
  /** 1 − cosine per step. */
  cosine: Buffer;
  /** Mean absolute error per step. */
  l1: Buffer;
}

/** Both charts, or null when no step was compared. */
export async function renderStepCharts(r: ReportDocument): Promise<StepCharts | null> {
  if (r.steps.length === 0) return null;
  const cosThreshold = r.thresholds.teacherForced.noisePred.cosine;
  const cosine = await drawChart(r, '1 − cosine per step (lower is better)', (m) => 1 - m.cosine, cosThreshold == null ? null : 1 - cosThreshold);
  const l1 = await drawChart(r, 'L1 (mean |candidate − reference|) per step', (m) => m.l1, null);
  return { cosine, l1 };
}

async function drawChart(
  r: ReportDocument,
  title: string,
  value: (m: MetricSet) => number,
  thresholdLine: number | null,
): Promise<Buffer> {
  const labels = r.steps.map((s) => s.index);
  const datasets: ChartDataset<'line', Array<number | null>>[] = SERIES.filter((ser) => r.steps.some((s) => ser.pick(s))).map((ser) => ({
    label: ser.label,
    data: r.steps.map((s) => plotValue(ser.pick(s), value)),
    borderColor: ser.color,
    backgroundColor: ser.color,
    borderWidth: 2,
    pointRadius: r.steps.length > 60 ? 0 : 3,
    spanGaps: false,
  }));
  if (thresholdLine !== null) {
    datasets.push({
      label: 'teacher-forced threshold',
      data: labels.map(() => Math.max(thresholdLine, FLOOR)),
      borderColor: '#d62728',
      backgroundColor: '#d62728',
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
    });
  }
  const config: ChartConfiguration<'line', Array<number | null>, number> = {
    type: 'line',
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: title, font: { size: 16 } },
        legend: { position: 'bottom' },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } },
        y: { type: 'logarithmic', title: { display: true, text: 'log scale' }, ticks: { callback: decadeLabel } },
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

/** Point value, with exact matches lifted to the floor and NaN left as a gap. */
function plotValue(m: MetricSet | null, value: (m: MetricSet) => number): number | null {
  if (!m) return null;
  const v = value(m);
  if (Number.isNaN(v)) return null;
  return Math.max(v, FLOOR);
}

/** Label only powers of ten, as 1e-6: the default prints every minor tick in full decimals. */
function decadeLabel(value: number | string): string {
  const v = Number(value);
  const exp = Math.log10(v);
  return Math.abs(exp - Math.round(exp)) < 1e-9 ? `1e${Math.round(exp)}` : '';
}

const whiteBackground: Plugin<'line'> = {
  id: 'whiteBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};
