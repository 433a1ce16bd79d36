/**
 * report.html: one self-contained page (inline CSS, every image a data:
 * URI, no external URL) that reads at a glance: verdict banner, both
 * builds side by side, findings, per-step charts, final image and latent
 * heatmaps, and the full metric table. Anything missing from the run or
 * the report folder is shown as "not compared", never an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../tensor/npy.ts';
import { renderHistogram, renderStepCharts } from './charts.ts';
import { diagnosis } from './terminal.ts';
import { colorBarPng, imageDiff, latentHeatmaps, type ChannelMaps } from './heatmap.ts';
import { PAGE_CSS } from './html-style.ts';
import {
  NOT_COMPARED,
  describePipeline,
  fmtCosine,
  fmtDb,
  fmtSci,
  metricFailed,
  shownComponents,
  tensorFailed,
  verdictWord,
  worstStep,
} from './format.ts';
import { COMPONENT_LABELS, type ComponentCheck, FREE_RUNNING_TENSORS, type Finding, TEACHER_FORCED_TENSORS, type BuildInfo, type MetricSet, type ReportDocument } from './schema.ts';

export async function renderHtml(r: ReportDocument, dir: string): Promise<string> {
  const sections = [
    // What failed and where first; the builds' settings and the full table after.
    banner(r),
    findings(r),
    await charts(r),
    await finalImages(dir),
    await finalLatents(dir),
    components(r),
    builds(r),
    metricTable(r),
    footer(r),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lockstep ${verdictWord(r)}: ${esc(r.builds.candidate.label)}</title>
<style>${PAGE_CSS}</style></head>
<body><main>
${sections.join('\n')}
</main></body></html>
`;
}

export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const png = (b: Buffer) => `data:image/png;base64,${b.toString('base64')}`;
const notCompared = (what: string) => `<p class="muted">${esc(what)}: ${NOT_COMPARED}.</p>`;

/** "step 3", "VAE encoder (before the steps)" or "none". */
function divergenceWhere(div: Finding | undefined): string {
  if (!div) return 'none';
  const check = div.tensor?.startsWith('components.') ? (div.component as ComponentCheck) : null;
  if (check) return `${esc(COMPONENT_LABELS[check] ?? check)} (before the steps)`;
  return div.step !== undefined ? `step ${div.step}` : 'none';
}

function banner(r: ReportDocument): string {
  const failed = r.gates.filter((g) => !g.passed).length;
  const div = r.findings.find((f) => f.kind === 'first-divergence');
  const worst = worstStep(r);
  const incomplete = r.complete
    ? ''
    : `<div class="incomplete">INCOMPLETE: stopped after ${r.steps.length} of ${r.pipeline.steps} steps${r.error ? `: ${esc(r.error)}` : ''}</div>`;
  return `<header class="banner ${r.verdict}">
  <div class="verdict">${verdictWord(r)}</div>
  <div class="headline">
    <div><b>${esc(r.builds.candidate.label)}</b> vs <b>${esc(r.builds.reference.label)}</b></div>
    <div>${esc(describePipeline(r.pipeline))}</div>
    <div>${r.gates.length} gates, <b>${failed} failed</b> · first divergence: ${divergenceWhere(div)} · worst step: ${worst ? `${worst.index} (relL2 ${fmtSci(worst.relL2)})` : NOT_COMPARED}</div>
    <div class="diagnosis">${esc(diagnosis(r))}</div>
  </div>
</header>${incomplete}`;
}

function runtimeText(b: NonNullable<BuildInfo['backend']>): string {
  if (!b.runtime) return 'onnxruntime-node';
  const wasm = b.wasmThreads !== undefined ? `, wasm ${b.wasmThreads} thread${b.wasmThreads === 1 ? '' : 's'}${b.simd ? ' SIMD' : ''}` : '';
  return `${b.runtime} ${b.runtimeVersion ?? ''}${b.browser ? ` in ${b.browser}` : ''}${wasm}`;
}

function builds(r: ReportDocument): string {
  const { reference: a, candidate: b } = r.builds;
  const t = (n: number | null | undefined) => (n === null || n === undefined ? 'default' : String(n));
  const rows: Array<[string, (x: BuildInfo) => string]> = [
    ['label', (x) => x.label],
    ['kind', (x) => x.kind],
    ['path', (x) => x.path],
    ['providers', (x) => x.backend?.providers.join(', ') ?? '–'],
    ['runtime', (x) => (x.backend ? runtimeText(x.backend) : '–')],
    ['graph optimization', (x) => x.backend?.graphOptimizationLevel ?? '–'],
    ['intra / inter-op threads', (x) => (x.backend ? `${t(x.backend.intraOpThreads)} / ${t(x.backend.interOpThreads)}` : '–')],
  ];
  const components = [...new Set([...Object.keys(a.signatures), ...Object.keys(b.signatures)])];
  const body = rows.map(([name, f]) => settingRow(name, f(a), f(b)));
  for (const c of components) body.push(settingRow(`${c} signature`, signature(a, c), signature(b, c), true));
  const p = r.pipeline;
  return `<section><h2>Builds</h2>
<table class="settings"><thead><tr><th></th><th>reference</th><th>candidate</th></tr></thead><tbody>
${body.join('\n')}
</tbody></table>
<p class="pipeline">Pipeline: prompt “${esc(p.prompt)}”${p.negativePrompt ? `, negative “${esc(p.negativePrompt)}”` : ''}; ${esc(describePipeline(p))}.</p></section>`;
}

function settingRow(name: string, a: string, b: string, code = false): string {
  const cls = a === b ? '' : ' class="differs"';
  const cell = (v: string) => (code ? `<code>${esc(v)}</code>` : esc(v));
  return `<tr${cls}><th>${esc(name)}</th><td>${cell(a)}</td><td>${cell(b)}</td></tr>`;
}

function signature(b: BuildInfo, component: string): string {
  const s = b.signatures[component];
  if (!s) return '–';
  const io = (xs: typeof s.inputs) => xs.map((x) => `${x.name}:${x.dtype}[${x.shape.join(',')}]`).join(' ');
  return `${io(s.inputs)} → ${io(s.outputs)}`;
}

function findings(r: ReportDocument): string {
  if (r.findings.length === 0) return '<section><h2>Findings</h2><p class="muted">None.</p></section>';
  const items = r.findings.map((f) => `<li class="${f.severity}"><span class="sev">${f.severity}</span> ${esc(f.message)}</li>`);
  return `<section><h2>Findings</h2><ul class="findings">${items.join('')}</ul></section>`;
}

async function charts(r: ReportDocument): Promise<string> {
  const c = await renderStepCharts(r);
  if (!c) return `<section><h2>Per step</h2>${notCompared('Steps')}</section>`;
  return `<section><h2>Per step</h2>
<p class="muted">Teacher-forced: the candidate fed the reference's inputs (this step's own error). Free-running: each build on its own trajectory (accumulated drift). A series above its own dashed line fails that bound.</p>
<div class="charts">
<img class="chart" alt="1 - cosine per step" src="${png(c.cosine)}">
<img class="chart" alt="relL2 per step" src="${png(c.relL2)}">
<img class="chart" alt="max abs error per step" src="${png(c.maxAbs)}">${await histogram(r)}</div></section>`;
}

/** The worst step's error distribution, with its quantiles and element-wise check. */
async function histogram(r: ReportDocument): Promise<string> {
  const w = r.worstStepHistogram;
  if (!w || w.histogram.counts.length === 0) return '';
  const [mode, tensor] = w.tensor.split('.');
  const m = (r.steps.find((s) => s.index === w.step)?.[mode as 'teacherForced' | 'freeRunning'] as Record<string, MetricSet | null> | undefined)?.[tensor];
  const q = m?.absErrQuantiles;
  const a = m?.allclose;
  const caption = [
    q ? `median |Δ| ${fmtSci(q.p50)}, p90 ${fmtSci(q.p90)}, p99 ${fmtSci(q.p99)}, p99.9 ${fmtSci(q.p999)}` : '',
    a ? `${a.mismatched} of ${m!.count} elements (${fmtPercent(a.fraction)}) outside atol ${a.atol} + rtol ${a.rtol}·|ref|` : '',
    m?.worstChannel ? `worst channel ${m.worstChannel.index}: cosine ${fmtCosine(m.worstChannel.cosine)}, relL2 ${fmtSci(m.worstChannel.relL2)}` : '',
  ].filter(Boolean).join(' · ');
  const title = `|Δ| at the worst step (${w.step}), ${w.tensor.replace('.', ' ')}`;
  return `<figure class="hist"><img class="chart" alt="error histogram of the worst step" src="${png(await renderHistogram(w.histogram, title))}"><figcaption>${esc(caption)}</figcaption></figure>`;
}

async function finalImages(dir: string): Promise<string> {
  const [refPath, candPath] = ['reference', 'candidate'].map((s) => join(dir, 'images', `${s}.png`));
  if (!existsSync(refPath) || !existsSync(candPath)) return `<section><h2>Final image</h2>${notCompared('Final images (images/reference.png, images/candidate.png)')}</section>`;
  const [ref, cand] = [readFileSync(refPath), readFileSync(candPath)];
  const d = await imageDiff(ref, cand);
  const diffCell = typeof d === 'string' ? `<p class="muted">${esc(d)}</p>` : `<img class="px" src="${png(d.diff)}" alt="abs diff">${await legend('inferno', 0, d.maxDiff, '|diff| (8-bit)')}`;
  return `<section><h2>Final image</h2><div class="trio">
<figure><img class="px" src="${png(ref)}" alt="reference"><figcaption>reference</figcaption></figure>
<figure><img class="px" src="${png(cand)}" alt="candidate"><figcaption>candidate</figcaption></figure>
<figure>${diffCell}<figcaption>|candidate − reference|</figcaption></figure></div></section>`;
}

async function finalLatents(dir: string): Promise<string> {
  const [refPath, candPath] = ['reference', 'candidate'].map((s) => join(dir, 'tensors', `final_latents.${s}.npy`));
  const title = '<h2>Final latents, per channel</h2>';
  if (!existsSync(refPath) || !existsSync(candPath)) return `<section>${title}${notCompared('Final latents (tensors/final_latents.*.npy)')}</section>`;
  let maps: ChannelMaps[];
  try {
    maps = await latentHeatmaps(readNpy(refPath), readNpy(candPath));
  } catch (err) {
    return `<section>${title}<p class="muted">${NOT_COMPARED}: ${esc((err as Error).message)}</p></section>`;
  }
  const rows = await Promise.all(
    maps.map(async (m) => `<div class="trio"><div class="ch">channel ${m.channel}</div>
<figure><img class="px" src="${png(m.reference)}" alt="reference channel ${m.channel}"><figcaption>reference</figcaption></figure>
<figure><img class="px" src="${png(m.candidate)}" alt="candidate channel ${m.channel}"><figcaption>candidate</figcaption></figure>
<figure><img class="px" src="${png(m.diff)}" alt="abs diff channel ${m.channel}"><figcaption>|diff|</figcaption></figure>
<div class="legends">${await legend('viridis', m.min, m.max, 'value')}${await legend('inferno', 0, m.maxDiff, '|diff|')}</div></div>`),
  );
  return `<section>${title}${rows.join('\n')}</section>`;
}

async function legend(map: 'viridis' | 'inferno', lo: number, hi: number, label: string): Promise<string> {
  return `<div class="legend"><span>${esc(label)}</span><img src="${png(await colorBarPng(map))}" alt="${map} scale"><span class="ends"><span>${fmtSci(lo)}</span><span>max ${fmtSci(hi)}</span></span></div>`;
}

function components(r: ReportDocument): string {
  const rows: Array<[string, string, MetricSet | null]> = [
    ...shownComponents(r).map((c): [string, string, MetricSet | null] => [COMPONENT_LABELS[c], `components.${c}`, r.components[c]]),
    ['final latents', 'final.latents', r.final.latents],
    ['decoded (before postprocess)', 'final.decoded', r.final.decoded],
  ];
  const img = r.final.image;
  const imgRow = img
    ? `<tr${tensorFailed(r, 'final.image') ? ' class="fail"' : ''}><th>image</th><td colspan="${METRIC_COLUMNS}"><span${metricFailed(r, 'final.image', 'psnr') ? ' class="bad"' : ''}>PSNR ${fmtDb(img.psnr)}</span>, <span${metricFailed(r, 'final.image', 'ssim') ? ' class="bad"' : ''}>SSIM ${img.ssim.toFixed(4)}</span></td></tr>`
    : `<tr><th>image</th><td colspan="${METRIC_COLUMNS}" class="muted">${NOT_COMPARED}</td></tr>`;
  return `<section><h2>Components and final output</h2><div class="scroll"><table class="metrics">${METRIC_HEAD}<tbody>
${rows.map(([name, key, m]) => metricRow(`<th>${esc(name)}</th>`, m, (metric) => metricFailed(r, key, metric))).join('\n')}
${imgRow}</tbody></table></div></section>`;
}

const METRIC_HEAD = '<thead><tr><th></th><th>cosine</th><th>relL2</th><th>L1</th><th>maxAbs</th><th>RMSE</th><th>SQNR</th><th>p99 |Δ|</th><th title="elements failing |Δ| ≤ atol + rtol·|ref|">not close</th><th>NaN/Inf (cand)</th></tr></thead>';
const METRIC_HEAD_STEPS = METRIC_HEAD.replace('<th></th>', '<th>step</th><th>t</th><th>mode</th><th>tensor</th>');
const METRIC_COLUMNS = 9;

/** One tensor's metrics; `failed(metric)` marks exactly the cells whose own gate failed. */
function metricRow(lead: string, m: MetricSet | null, failed: (metric: string) => boolean): string {
  if (!m) return `<tr class="nc">${lead}<td colspan="${METRIC_COLUMNS}" class="muted">${NOT_COMPARED}</td></tr>`;
  const nonFinite = m.nanCount.candidate + m.infCount.candidate;
  const cell = (metric: string, text: string) => `<td${failed(metric) ? ' class="bad"' : ''}>${text}</td>`;
  const anyFailed = ['cosine', 'relL2', 'l1', 'maxAbs', 'rmse', 'sqnr', 'allclose.fraction', 'nonFinite'].some(failed);
  const notClose = m.allclose ? `${fmtPercent(m.allclose.fraction)}` : '–';
  return `<tr${anyFailed ? ' class="fail"' : ''}>${lead}${cell('cosine', fmtCosine(m.cosine))}${cell('relL2', fmtSci(m.relL2))}${cell('l1', fmtSci(m.l1))}${cell('maxAbs', fmtSci(m.maxAbs))}${cell('rmse', fmtSci(m.rmse))}${cell('sqnr', fmtDb(m.sqnr))}<td>${fmtSci(m.absErrQuantiles?.p99)}</td>${cell('allclose.fraction', notClose)}${cell('nonFinite', String(nonFinite))}</tr>`;
}

function fmtPercent(x: number): string {
  return x === 0 ? '0 %' : `${Number((100 * x).toPrecision(3))} %`;
}

function metricTable(r: ReportDocument): string {
  if (r.steps.length === 0) return '';
  const rows: string[] = [];
  for (const s of r.steps) {
    const modes = [
      ['teacherForced', 'teacher-forced', TEACHER_FORCED_TENSORS, s.teacherForced],
      ['freeRunning', 'free-running', FREE_RUNNING_TENSORS, s.freeRunning],
    ] as const;
    for (const [key, word, tensors, rec] of modes) {
      for (const t of tensors) {
        const m = (rec as Record<string, MetricSet | null>)[t];
        if (!m) continue;
        const lead = `<td>${s.index}</td><td>${s.timestep}</td><td>${word}</td><td>${t}</td>`;
        rows.push(metricRow(lead, m, (metric) => metricFailed(r, `${key}.${t}`, metric, s.index)));
      }
    }
  }
  // Open when something failed: the failing cells are what the reader came for.
  const open = r.verdict === 'fail' || r.steps.length <= 12;
  return `<section><details${open ? ' open' : ''}><summary><h2>All step metrics</h2></summary>
<p class="muted">Cells in red fail their own bound (report.json <code>thresholds</code>); a tinted row has at least one.</p>
<div class="scroll"><table class="metrics steps">${METRIC_HEAD_STEPS}<tbody>${rows.join('\n')}</tbody></table></div></details></section>`;
}

function footer(r: ReportDocument): string {
  return `<footer>lockstep ${esc(r.versions.lockstep)} · onnxruntime ${esc(r.versions.onnxruntime ?? 'n/a')}${r.versions.onnxruntimeWeb ? ` · onnxruntime-web ${esc(r.versions.onnxruntimeWeb)}` : ''} · ${esc(r.createdAt)} · wall ${r.timing.wallSeconds.toFixed(1)} s, ORT ${r.timing.ortSeconds.toFixed(1)} s · report.json is the source of truth</footer>`;
}
