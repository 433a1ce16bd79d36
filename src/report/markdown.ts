/**
 * report.md: the short summary a CI job pastes into a log or a PR comment.
 * Plain text markers only (PASS/FAIL/INCOMPLETE), failing values in bold.
 */
import { COMPONENT_LABELS, type MetricSet, type ReportDocument, type StepRecord } from './schema.ts';
import {
  NOT_COMPARED,
  describeBackend,
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
import { diagnosis } from './terminal.ts';

/** Long runs show this many rows: the start, the divergence, the worst step and the end. */
const MAX_ROWS = 24;

export function renderMarkdown(r: ReportDocument): string {
  return [header(r), findings(r), stepTable(r), components(r), footer(r)].filter(Boolean).join('\n\n') + '\n';
}

function header(r: ReportDocument): string {
  const failed = r.gates.filter((g) => !g.passed).length;
  const worst = worstStep(r);
  const firstDiv = r.findings.find((f) => f.kind === 'first-divergence');
  const lines = [
    `# lockstep: ${verdictWord(r)}${r.complete ? '' : ' (INCOMPLETE)'}`,
    '',
    ...(r.complete ? [] : [`**INCOMPLETE**: stopped after ${r.steps.length} of ${r.pipeline.steps} steps${r.error ? `: ${r.error}` : ''}`, '']),
    `- reference: \`${r.builds.reference.label}\` (${describeBackend(r.builds.reference)})`,
    `- candidate: \`${r.builds.candidate.label}\` (${describeBackend(r.builds.candidate)})`,
    `- pipeline: ${describePipeline(r.pipeline)}`,
    `- gates: ${r.gates.length} evaluated, ${failed} failed`,
    `- first divergence: ${firstDiv ? firstDiv.message.replace(/^First divergence (at )?/, '') : 'none'}`,
    `- worst step: ${worst ? `step ${worst.index} (timestep ${worst.timestep}), ${worst.tensor} relL2 ${fmtSci(worst.relL2)}` : NOT_COMPARED}`,
    `- diagnosis: ${diagnosis(r)}`,
  ];
  return lines.join('\n');
}

function findings(r: ReportDocument): string {
  if (r.findings.length === 0) return '';
  return ['## Findings', '', ...r.findings.map((f) => `- ${f.severity.toUpperCase()}: ${f.message}`)].join('\n');
}

function stepTable(r: ReportDocument): string {
  if (r.steps.length === 0) return '## Steps\n\nNo step was compared.';
  const rows = selectRows(r);
  const head = '| step | timestep | TF cosine | TF relL2 | FR cosine | FR latents relL2 | guidance Δ cosine |\n|---:|---:|---:|---:|---:|---:|---:|';
  const body = rows.map((s) => (s ? stepRow(r, s) : '| … | | | | | | |'));
  const note = rows.length < r.steps.length ? `\n\nShowing ${rows.filter(Boolean).length} of ${r.steps.length} steps; all are in report.json.` : '';
  return `## Steps\n\nTF = teacher-forced noisePred, FR = free-running noisePred; values that fail their own bound in bold.\n\n${head}\n${body.join('\n')}${note}`;
}

/** All steps when few; otherwise a subset with null marking the gaps. */
function selectRows(r: ReportDocument): Array<StepRecord | null> {
  const n = r.steps.length;
  if (n <= MAX_ROWS) return r.steps;
  const keep = new Set<number>([0, 1, 2, 3, 4, n - 3, n - 2, n - 1]);
  const around = (k: number | null | undefined) => {
    if (k === null || k === undefined) return;
    for (let i = k - 2; i <= k + 2; i++) if (i >= 0 && i < n) keep.add(i);
  };
  around(r.firstDivergentStep);
  around(worstStep(r)?.index);
  const out: Array<StepRecord | null> = [];
  [...keep].sort((a, b) => a - b).forEach((i, j, arr) => {
    if (j > 0 && i !== arr[j - 1] + 1) out.push(null);
    out.push(r.steps[i]);
  });
  return out;
}

function stepRow(r: ReportDocument, s: StepRecord): string {
  // Bold exactly the values whose own gate failed, not every value of a failing tensor.
  const cell = (scopeTensor: string, metric: string, text: string) => (metricFailed(r, scopeTensor, metric, s.index) ? `**${text}**` : text);
  return [
    s.index,
    s.timestep,
    cell('teacherForced.noisePred', 'cosine', fmtCosine(s.teacherForced.noisePred?.cosine)),
    cell('teacherForced.noisePred', 'relL2', fmtSci(s.teacherForced.noisePred?.relL2)),
    cell('freeRunning.noisePred', 'cosine', fmtCosine(s.freeRunning.noisePred?.cosine)),
    cell('freeRunning.latents', 'relL2', fmtSci(s.freeRunning.latents?.relL2)),
    cell('teacherForced.guidanceDelta', 'cosine', fmtCosine(s.teacherForced.guidanceDelta?.cosine)),
  ]
    .map((v) => ` ${v} |`)
    .join('')
    .replace(/^/, '|');
}

function components(r: ReportDocument): string {
  const row = (name: string, key: string, m: MetricSet | null) => {
    if (!m) return `| ${name} | ${NOT_COMPARED} | | | |`;
    const verdict = tensorFailed(r, key) ? '**FAIL**' : 'pass';
    const b = (metric: string, text: string) => (metricFailed(r, key, metric) ? `**${text}**` : text);
    return `| ${name} | ${b('cosine', fmtCosine(m.cosine))} | ${b('relL2', fmtSci(m.relL2))} | ${b('maxAbs', fmtSci(m.maxAbs))} | ${verdict} |`;
  };
  const img = r.final.image;
  const imageLine = img
    ? `Image: PSNR ${fmtDb(img.psnr)}, SSIM ${img.ssim.toFixed(4)} (${tensorFailed(r, 'final.image') ? '**FAIL**' : 'pass'})`
    : `Image: ${NOT_COMPARED}`;
  return [
    '## Components and final output',
    '',
    '| check | cosine | relL2 | maxAbs | result |',
    '|---|---:|---:|---:|---|',
    ...shownComponents(r).map((c) => row(COMPONENT_LABELS[c], `components.${c}`, r.components[c])),
    row('final latents', 'final.latents', r.final.latents),
    row('decoded (pre-postprocess)', 'final.decoded', r.final.decoded),
    '',
    imageLine,
  ].join('\n');
}

function footer(r: ReportDocument): string {
  const ort = r.versions.onnxruntime ?? 'n/a';
  const web = r.versions.onnxruntimeWeb ? `, onnxruntime-web ${r.versions.onnxruntimeWeb}` : '';
  return `lockstep ${r.versions.lockstep}, onnxruntime ${ort}${web}; wall ${r.timing.wallSeconds.toFixed(1)} s, ORT ${r.timing.ortSeconds.toFixed(1)} s.`;
}
