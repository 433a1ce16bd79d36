/**
 * reports/<suite>/index.html: one row per case in the main report's style —
 * verdict, first divergent step, worst teacher-forced and free-running
 * figures, the final image's PSNR and the reference/candidate thumbnails —
 * each linking to the case's report.html. Thumbnails are the case folder's
 * own images/*.png, linked relatively like the reports.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { divergenceWhere, fmtCosine, fmtDb } from '../report/format.ts';
import { esc } from '../report/html.ts';
import { PAGE_CSS } from '../report/html-style.ts';
import { formatNumber } from '../gates/evaluate.ts';
import { extremes } from '../report/terminal.ts';
import { reportPage } from '../report/write.ts';
import type { Mode, ReportDocument } from '../report/schema.ts';
import type { CaseResult } from './run.ts';

const INDEX_CSS = `
.cases td, .cases th { vertical-align: middle; }
.cases td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.cases th:first-child { min-width: 140px; }
.cases .sub { display: block; font-size: 12px; color: #555; margin-top: 3px; white-space: nowrap; }
.pill { display: inline-block; white-space: nowrap; padding: 2px 10px; border-radius: 10px; font-weight: 800; color: #fff; letter-spacing: 1px; }
.pill.pass { background: #1e7d3a; } .pill.fail { background: #b3261e; } .pill.error { background: #a66300; }
.thumbs { display: flex; gap: 4px; }
.thumbs img { width: 52px; height: 52px; image-rendering: pixelated; border: 1px solid #ccd; display: block; }
.cases .note { color: #555; font-size: 12px; font-weight: 400; overflow-wrap: break-word; }
`;

export function renderIndexHtml(suiteName: string, results: readonly CaseResult[]): string {
  const passed = results.filter((r) => r.report?.verdict === 'pass' && !r.error).length;
  const verdict = passed === results.length ? 'pass' : 'fail';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lockstep ${esc(suiteName)}: ${passed}/${results.length} pass</title>
<style>${PAGE_CSS}${INDEX_CSS}</style></head>
<body><main>
<header class="banner ${verdict}"><div class="verdict">${verdict.toUpperCase()}</div><div class="headline">
  <div>suite <b>${esc(suiteName)}</b></div><div>${passed} of ${results.length} cases pass</div></div></header>
<section><h2>Cases</h2>
<p class="muted">Worst figures are the main tensors' (teacher-forced noisePred: one step's own error; free-running latents: accumulated drift) over all steps.</p>
<div class="scroll"><table class="cases"><thead><tr><th>case</th><th>verdict, first divergence</th><th>worst teacher-forced</th><th>worst free-running</th><th>image PSNR</th><th>reference · candidate</th></tr></thead><tbody>
${results.map(row).join('\n')}
</tbody></table></div></section>
</main></body></html>
`;
}

function row(r: CaseResult): string {
  const name = encodeURIComponent(r.name);
  if (r.error || !r.report) {
    const word = r.stale ? 'stale golden' : 'could not run';
    return `<tr><th>${esc(r.name)}</th><td><span class="pill error">${esc(word)}</span></td><td colspan="4" class="note">${esc(r.error ?? '')}</td></tr>`;
  }
  const rep = r.report;
  // Failing tensors (scope.tensor), not every gate: the report lists the metrics.
  const failing = [...new Set(rep.gates.filter((g) => !g.passed).map((g) => `${g.scope}.${g.tensor}`))];
  const note = failing.length ? `<div class="note">failing: ${esc(failing.slice(0, 3).join(', '))}${failing.length > 3 ? ` +${failing.length - 3} more` : ''}</div>` : '';
  const where = divergenceWhere(rep);
  const div = where === null ? 'no divergence' : `diverges at ${esc(where)}`;
  return `<tr><th><a href="${esc(name)}/${pageOf(r)}">${esc(r.name)}</a>${note}</th><td><span class="pill ${rep.verdict}">${rep.verdict.toUpperCase()}</span><span class="sub">${div}</span></td><td class="num">${worst(rep, 'teacherForced')}</td><td class="num">${worst(rep, 'freeRunning')}</td><td class="num">${rep.final.image ? fmtDb(rep.final.image.psnr) : '—'}</td><td>${thumbs(r, name)}</td></tr>`;
}

function worst(r: ReportDocument, mode: Mode): string {
  const e = extremes(r, mode);
  if (!e) return '—';
  return `cos ${fmtCosine(e.cosine.value)} <span class="muted">@${e.cosine.step}</span><br>relL2 ${esc(formatNumber(e.relL2.value))} <span class="muted">@${e.relL2.step}</span>`;
}

function thumbs(r: CaseResult, name: string): string {
  const sides = ['reference', 'candidate'].filter((s) => existsSync(join(r.reportDir, 'images', `${s}.png`)));
  if (sides.length < 2) return '<span class="muted">no images</span>';
  return `<a class="thumbs" href="${esc(name)}/${pageOf(r)}">${sides.map((s) => `<img src="${esc(name)}/images/${s}.png" alt="${s}" title="${s}">`).join('')}</a>`;
}

/** The case's report.html, or its report.md when the run wrote no HTML for it (`--html failing|none`). */
function pageOf(r: CaseResult): string {
  return basename(reportPage(r.reportDir));
}
