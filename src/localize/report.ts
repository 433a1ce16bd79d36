/**
 * report.json (format `lockstep.localize/1`) and a self-contained report.html:
 * 1 − cosine per matched value along graph order as a chart (first divergent
 * value marked), the path from the input to it, and the full table.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Title, type ChartConfiguration } from 'chart.js';
import { fmtCosine, fmtSci } from '../report/format.ts';
import { esc } from '../report/html.ts';
import { PAGE_CSS } from '../report/html-style.ts';
import { writeFileAtomic } from '../util/fs.ts';
import type { Row } from './engine.ts';
import type { LocalizeResult } from './localize.ts';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Title);

const FLOOR = 1e-12;

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
  const chart = r.rows.length ? `<img alt="1 - cosine per value" src="data:image/png;base64,${(await cosineChart(r)).toString('base64')}">` : '';
  const first = r.first;
  const headline = first
    ? `First divergent node: <b>${esc(first.match.refNode.name)}</b> (${esc(first.match.refNode.opType)}) — value <code>${esc(first.match.reference)}</code>, ${esc(first.failed.join('; ') || (first.own?.failed.join('; ') ?? ''))}`
    : 'No matched value crosses the thresholds.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lockstep localize: ${esc(r.options.component)}</title><style>${PAGE_CSS}
tr.first td{background:#fde2e1;font-weight:bold} td.fail{color:#b00020}</style></head><body>
<h1>lockstep localize — ${esc(r.options.component)}</h1>
<p class="verdict ${first ? 'fail' : 'pass'}">${headline}</p>
<p>Reference <code>${esc(r.referenceModel)}</code><br>Candidate <code>${esc(r.candidateModel)}</code><br>
Mode ${esc(r.options.mode)}, strategy ${esc(r.options.strategy)}, match ${esc(r.options.match)}; thresholds ${esc(JSON.stringify(r.options.thresholds))}.<br>
Matched ${r.counts.matched} of ${r.counts.reference} reference values (${r.counts.byName} by name, ${r.counts.byTopology} by topology); ${r.stats.runs} ORT runs (+${r.stats.sizingRuns} sizing), ${r.stats.batches} batches, at most ${fmtBytes(r.stats.maxHeldBytes)} of captured tensors held at once.</p>
${notExposable(r)}
${chart}
${first ? `<h2>Path from the input</h2><ol>${r.path.map((p) => `<li>${esc(p.opType)} <code>${esc(p.name)}</code></li>`).join('')}</ol>` : ''}
<h2>Compared values (reference graph order)</h2>
${table(r)}
</body></html>
`;
}

function notExposable(r: LocalizeResult): string {
  if (r.notExposable.length === 0) return '';
  const items = r.notExposable.map((n) => `<li>${n.side} <code>${esc(n.value)}</code>${n.node ? ` (${esc(n.node.opType)} ${esc(n.node.name)})` : ''}${n.matchedTo ? `, so <code>${esc(n.matchedTo)}</code> was not compared` : ''}: ${esc(n.reason)}</li>`);
  return `<p class="fail">${r.notExposable.length} value(s) ONNX Runtime would not expose as graph outputs (batch split and retried without them; ${r.stats.rejectedRuns} refused batch model(s)):</p><ul>${items.join('')}</ul>`;
}

function table(r: LocalizeResult): string {
  const single = r.options.mode === 'single';
  const head = ['#', 'node', 'op', 'value', 'by', 'cosine', 'relL2', 'maxAbs', ...(single ? ['own cosine', 'own relL2'] : [])];
  const body = r.rows.map((x) => {
    const cls = x === r.first ? ' class="first"' : '';
    const f = (bad: boolean, s: string) => `<td${bad ? ' class="fail"' : ''}>${s}</td>`;
    const own = single && x.own ? f(x.own.failed.length > 0, fmtCosine(x.own.metrics.cosine)) + f(x.own.failed.length > 0, fmtSci(x.own.metrics.relL2)) : single ? '<td>–</td><td>–</td>' : '';
    return `<tr${cls}><td>${x.position}</td><td>${esc(x.match.refNode.name)}</td><td>${esc(x.match.refNode.opType)}</td><td><code>${esc(x.match.reference)}</code>${x.match.candidate !== x.match.reference ? ` ↔ <code>${esc(x.match.candidate)}</code>` : ''}</td><td>${x.match.by}</td>${f(x.failed.length > 0, fmtCosine(x.metrics.cosine))}${f(x.failed.length > 0, fmtSci(x.metrics.relL2))}<td>${fmtSci(x.metrics.maxAbs)}</td>${own}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

async function cosineChart(r: LocalizeResult): Promise<Buffer> {
  const pt = (x: Row, m = x.metrics) => ({ x: x.position, y: Math.max(1 - m.cosine, FLOOR) });
  const datasets: ChartConfiguration<'line'>['data']['datasets'] = [
    { label: '1 − cosine (whole component)', data: r.rows.map((x) => pt(x)), borderColor: '#1f77b4', backgroundColor: '#1f77b4', pointRadius: 2, borderWidth: 1.5 },
  ];
  if (r.options.mode === 'single') {
    datasets.push({ label: "1 − cosine (node's own, fed the reference's inputs)", data: r.rows.filter((x) => x.own).map((x) => pt(x, x.own!.metrics)), borderColor: '#ff7f0e', backgroundColor: '#ff7f0e', pointRadius: 2, borderWidth: 1 });
  }
  if (r.first) {
    datasets.push({ label: `first divergent: ${r.first.match.refNode.name}`, data: [pt(r.first, r.options.mode === 'single' ? r.first.own!.metrics : r.first.metrics)], borderColor: '#d62728', backgroundColor: '#d62728', pointRadius: 7, showLine: false });
  }
  const config: ChartConfiguration<'line'> = {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: { title: { display: true, text: '1 − cosine per value along graph order (log scale)' }, legend: { position: 'bottom' } },
      scales: { x: { type: 'linear', title: { display: true, text: 'matched value (reference graph order)' } }, y: { type: 'logarithmic' } },
    },
    plugins: [{ id: 'bg', beforeDraw: (c) => { c.ctx.save(); c.ctx.fillStyle = '#fff'; c.ctx.fillRect(0, 0, c.width, c.height); c.ctx.restore(); } }],
  };
  const canvas = createCanvas(1000, 360);
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
