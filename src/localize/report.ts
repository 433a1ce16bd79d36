/**
 * report.json (format `lockstep.localize/1`) and a self-contained report.html:
 * 1 − cosine per matched value along graph order as a chart (first divergent
 * value marked), the path from the input to it, and the full table.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, SubTitle, Title, type ChartConfiguration } from 'chart.js';
import { logRange, logTickLabel, place } from '../report/chart-axis.ts';
import { fmtCosine, fmtSci } from '../report/format.ts';
import { esc } from '../report/html.ts';
import { PAGE_CSS } from '../report/html-style.ts';
import { writeFileAtomic } from '../util/fs.ts';
import type { Row } from './engine.ts';
import type { LocalizeResult } from './localize.ts';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Title, SubTitle);

export interface LocalizeReportRow {
  position: number;
  reference: string;
  candidate: string;
  matchedBy: 'name' | 'topology';
  node: { name: string; opType: string; inputs: string[] };
  candidateNode: { name: string; opType: string };
  metrics: Row['metrics'];
  failed: string[];
  own?: { metrics: Row['metrics']; failed: string[] };
}

export function reportDocument(r: LocalizeResult) {
  const row = (x: Row): LocalizeReportRow => ({
    position: x.position,
    reference: x.match.reference,
    candidate: x.match.candidate,
    matchedBy: x.match.by,
    node: { name: x.match.refNode.name, opType: x.match.refNode.opType, inputs: x.match.refNode.inputs },
    candidateNode: { name: x.match.candNode.name, opType: x.match.candNode.opType },
    metrics: x.metrics,
    failed: x.failed,
    ...(x.own ? { own: x.own } : {}),
  });
  return {
    format: 'lockstep.localize/1',
    options: r.options,
    referenceModel: r.referenceModel,
    candidateModel: r.candidateModel,
    verdict: r.first ? 'diverged' : 'no divergence',
    firstDivergent: r.first ? row(r.first) : null,
    path: r.path,
    counts: r.counts,
    stats: r.stats,
    notExposable: r.notExposable,
    rows: r.rows.map(row),
  };
}

/** Writes report.json and report.html into `dir`. */
export async function writeLocalizeReport(r: LocalizeResult, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const doc = reportDocument(r);
  // Non-finite numbers as strings, so the file stays strict JSON.
  writeFileAtomic(join(dir, 'report.json'), `${JSON.stringify(doc, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  writeFileAtomic(join(dir, 'report.html'), await renderLocalizeHtml(r));
}

export async function renderLocalizeHtml(r: LocalizeResult): Promise<string> {
  const sections = [
    banner(r),
    models(r),
    notExposable(r),
    r.rows.length ? `<section><h2>Per value, along graph order</h2><img class="chart wide" alt="1 - cosine per value" src="data:image/png;base64,${(await cosineChart(r)).toString('base64')}"></section>` : '',
    r.first ? pathSection(r) : '',
    `<section><h2>Compared values (reference graph order)</h2><p class="muted">Cells in red cross their bound; the first divergent value's row is tinted.</p><div class="scroll">${table(r)}</div></section>`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lockstep localize ${r.first ? 'DIVERGED' : 'MATCH'}: ${esc(r.options.component)}</title><style>${PAGE_CSS}${LOCALIZE_CSS}</style></head>
<body><main>
${sections.filter(Boolean).join('\n')}
</main></body></html>
`;
}

const LOCALIZE_CSS = `
tr.first td { background: #fdf1f0; }
.chart.wide { max-width: 100%; }
.kv th { width: 110px; color: #555; font-weight: 600; }
.kv td { overflow-wrap: anywhere; }
.path { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
.path li { display: flex; align-items: center; gap: 6px; min-width: 0; }
.path li + li::before { content: "→"; color: #777; }
.path .node { border: 1px solid #ccd3dd; border-radius: 6px; padding: 3px 8px; background: #f7f9fb; max-width: 100%; overflow-wrap: anywhere; }
.path .node .op { display: block; font-weight: 700; font-size: 12px; }
.path li.divergent .node { border-color: #b3261e; background: #fde7e5; }
.metrics.values td:nth-child(-n+5) { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 80px; }
`;

/** Crossed bounds of a row, as "cosine 0.99876543 (bound ≥ 0.9999)", with the numbers formatted. */
function crossed(m: Row['metrics'], t: LocalizeResult['options']['thresholds']): string[] {
  const out: string[] = [];
  if (m.nanCount.candidate > m.nanCount.reference || m.infCount.candidate > m.infCount.reference) out.push(`NaN/Inf on the candidate (${m.nanCount.candidate} NaN, ${m.infCount.candidate} Inf)`);
  if (t.cosine !== undefined && !(m.cosine >= t.cosine)) out.push(`cosine ${fmtCosine(m.cosine)} (bound ≥ ${t.cosine})`);
  if (t.relL2 !== undefined && !(m.relL2 <= t.relL2)) out.push(`relL2 ${fmtSci(m.relL2)} (bound ≤ ${t.relL2})`);
  if (t.maxAbs !== undefined && !(m.maxAbs <= t.maxAbs)) out.push(`maxAbs ${fmtSci(m.maxAbs)} (bound ≤ ${t.maxAbs})`);
  return out;
}

function banner(r: LocalizeResult): string {
  const o = r.options;
  const first = r.first;
  const lines = first
    ? [
        `<div>First divergent node: <code>${esc(first.match.refNode.name)}</code> (${esc(first.match.refNode.opType)})</div>`,
        `<div>Value <code>${esc(first.match.reference)}</code>${first.match.candidate !== first.match.reference ? ` ↔ <code>${esc(first.match.candidate)}</code>` : ''}: <b>${esc(crossed(o.mode === 'single' && first.own ? first.own.metrics : first.metrics, o.thresholds).join(', '))}</b>${o.mode === 'single' ? ' (its own error, fed the reference\'s inputs)' : ''}</div>`,
      ]
    : ['<div>No matched value crosses the bounds.</div>'];
  return `<header class="banner ${first ? 'fail' : 'pass'}">
  <div class="verdict">${first ? 'DIVERGED' : 'MATCH'}</div>
  <div class="headline">
    <div><b>${esc(o.component)}</b>: layer-by-layer, ${esc(o.mode)} mode, ${esc(o.strategy)} search</div>
    ${lines.join('\n    ')}
    <div>Matched ${r.counts.matched} of ${r.counts.reference} reference values (${r.counts.byName} by name, ${r.counts.byTopology} by topology)</div>
  </div>
</header>`;
}

function models(r: LocalizeResult): string {
  const t = r.options.thresholds;
  const bounds = [t.cosine !== undefined ? `cosine ≥ ${t.cosine}` : '', t.relL2 !== undefined ? `relL2 ≤ ${t.relL2}` : '', t.maxAbs !== undefined ? `maxAbs ≤ ${t.maxAbs}` : ''].filter(Boolean).join(', ');
  return `<section><h2>Models</h2><table class="kv"><tbody>
<tr><th>reference</th><td><code>${esc(r.referenceModel)}</code></td></tr>
<tr><th>candidate</th><td><code>${esc(r.candidateModel)}</code></td></tr>
<tr><th>bounds</th><td>${esc(bounds || 'none')}; NaN/Inf the reference lacks always fails</td></tr>
<tr><th>work</th><td>${r.stats.runs} ONNX Runtime runs (+${r.stats.sizingRuns} sizing), ${r.stats.batches} batches, at most ${fmtBytes(r.stats.maxHeldBytes)} of captured tensors held at once</td></tr>
</tbody></table></section>`;
}

function pathSection(r: LocalizeResult): string {
  const last = r.path.length - 1;
  const items = r.path.map((p, i) => `<li${i === last ? ' class="divergent"' : ''}><span class="node"><span class="op">${esc(p.opType)}</span><code>${esc(p.name)}</code></span></li>`);
  return `<section><h2>Path from the input to the first divergent node</h2><ol class="path">${items.join('')}</ol></section>`;
}

function notExposable(r: LocalizeResult): string {
  if (r.notExposable.length === 0) return '';
  const items = r.notExposable.map((n) => `<li>${n.side} <code>${esc(n.value)}</code>${n.node ? ` (${esc(n.node.opType)} ${esc(n.node.name)})` : ''}${n.matchedTo ? `, so <code>${esc(n.matchedTo)}</code> was not compared` : ''}: ${esc(n.reason)}</li>`);
  return `<section><h2>Not compared</h2><p>${r.notExposable.length} value(s) ONNX Runtime would not expose as graph outputs (batch split and retried without them; ${r.stats.rejectedRuns} refused batch model(s)):</p><ul class="findings">${items.join('')}</ul></section>`;
}

function table(r: LocalizeResult): string {
  const single = r.options.mode === 'single';
  const t = r.options.thresholds;
  const head = ['#', 'node', 'op', 'value', 'by', 'cosine', 'relL2', 'maxAbs', ...(single ? ['own cosine', 'own relL2'] : [])];
  const cells = (m: Row['metrics'], keys: ReadonlyArray<'cosine' | 'relL2' | 'maxAbs'>) =>
    keys.map((k) => {
      const bad = k === 'cosine' ? t.cosine !== undefined && !(m.cosine >= t.cosine) : t[k] !== undefined && !(m[k] <= t[k]!);
      return `<td${bad ? ' class="bad"' : ''}>${k === 'cosine' ? fmtCosine(m.cosine) : fmtSci(m[k])}</td>`;
    }).join('');
  const body = r.rows.map((x) => {
    const cls = x === r.first ? ' class="first"' : '';
    const own = single ? (x.own ? cells(x.own.metrics, ['cosine', 'relL2']) : '<td>–</td><td>–</td>') : '';
    return `<tr${cls}><td>${x.position}</td><td>${esc(x.match.refNode.name)}</td><td>${esc(x.match.refNode.opType)}</td><td><code>${esc(x.match.reference)}</code>${x.match.candidate !== x.match.reference ? ` ↔ <code>${esc(x.match.candidate)}</code>` : ''}</td><td>${x.match.by}</td>${cells(x.metrics, ['cosine', 'relL2', 'maxAbs'])}${own}</tr>`;
  });
  return `<table class="metrics values"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

async function cosineChart(r: LocalizeResult): Promise<Buffer> {
  const values = r.rows.map((x) => 1 - x.metrics.cosine);
  const own = r.rows.filter((x) => x.own).map((x) => 1 - x.own!.metrics.cosine);
  const bound = r.options.thresholds.cosine !== undefined ? 1 - r.options.thresholds.cosine : null;
  const range = logRange([...values, ...own, ...(bound !== null ? [bound] : [])]);
  type P = { x: number; y: number };
  const split = (rows: Row[], pick: (x: Row) => Row['metrics']) => {
    const line: Array<P | { x: number; y: null }> = [];
    const zeros: P[] = [];
    const nonFinite: P[] = [];
    for (const x of rows) {
      const p = place(1 - pick(x).cosine);
      line.push({ x: x.position, y: p.kind === 'value' ? p.y : null });
      if (p.kind === 'zero') zeros.push({ x: x.position, y: range.min });
      if (p.kind === 'nonfinite') nonFinite.push({ x: x.position, y: range.max });
    }
    return { line, zeros, nonFinite };
  };
  const datasets: ChartConfiguration<'line'>['data']['datasets'] = [];
  const add = (label: string, color: string, parts: ReturnType<typeof split>) => {
    datasets.push({ label, data: parts.line as P[], borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 1.5, spanGaps: false });
    if (parts.zeros.length) datasets.push({ label: `exactly 0: ${label}`, data: parts.zeros, showLine: false, pointStyle: 'circle', pointRadius: 4, borderColor: color, backgroundColor: '#fff', borderWidth: 1.5, clip: false });
    if (parts.nonFinite.length) datasets.push({ label: `NaN: ${label}`, data: parts.nonFinite, showLine: false, pointStyle: 'crossRot', pointRadius: 7, borderColor: color, borderWidth: 2.5, clip: false });
  };
  add('whole component (accumulated)', '#1f77b4', split(r.rows, (x) => x.metrics));
  if (r.options.mode === 'single') add("node's own (fed the reference's inputs)", '#ff7f0e', split(r.rows.filter((x) => x.own), (x) => x.own!.metrics));
  if (bound !== null && bound > 0 && r.rows.length) {
    datasets.push({ label: `bound (cosine ≥ ${r.options.thresholds.cosine})`, data: [{ x: r.rows[0].position, y: bound }, { x: r.rows.at(-1)!.position, y: bound }], borderColor: '#d62728', borderDash: [7, 5], borderWidth: 1.5, pointRadius: 0 });
  }
  if (r.first) {
    const m = r.options.mode === 'single' && r.first.own ? r.first.own.metrics : r.first.metrics;
    const p = place(1 - m.cosine);
    datasets.push({ label: `first divergent: ${r.first.match.refNode.opType} #${r.first.position}`, data: [{ x: r.first.position, y: p.kind === 'value' ? p.y : range.max }], borderColor: '#d62728', backgroundColor: '#d62728', pointRadius: 7, showLine: false, clip: false });
  }
  const config: ChartConfiguration<'line'> = {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: '1 − cosine per matched value (lower is better)', font: { size: 15 } },
        subtitle: { display: true, text: 'hollow circles on the floor: exactly equal; crosses at the top: NaN', color: '#555' },
        legend: { position: 'bottom', labels: { filter: (item) => !/^(exactly 0|NaN): /.test(item.text) } },
      },
      scales: {
        x: { type: 'linear', min: r.rows[0]?.position ?? 0, max: r.rows.at(-1)?.position ?? 1, title: { display: true, text: 'matched value (reference graph order)' }, ticks: { precision: 0 } },
        y: { type: 'logarithmic', min: range.min, max: range.max, title: { display: true, text: '1 − cosine (log scale)' }, ticks: { callback: logTickLabel(range), autoSkip: false } },
      },
    },
    plugins: [{ id: 'bg', beforeDraw: (c) => { c.ctx.save(); c.ctx.fillStyle = '#fff'; c.ctx.fillRect(0, 0, c.width, c.height); c.ctx.restore(); } }],
  };
  const canvas = createCanvas(1000, 380);
  const chart = new Chart(canvas.getContext('2d') as unknown as CanvasRenderingContext2D, config);
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}

function fmtBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
