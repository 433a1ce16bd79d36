/** reports/<suite>/index.html: every case's verdict, linking to its report. */
import { esc } from '../report/html.ts';
import { gateFamilies } from './families.ts';
import type { CaseResult } from './run.ts';

export function renderIndexHtml(suiteName: string, results: readonly CaseResult[]): string {
  const rows = results.map((r) => {
    const verdict = r.error ? (r.stale ? 'stale golden' : 'could not run') : (r.report?.verdict ?? 'could not run');
    const cls = verdict === 'pass' ? 'pass' : verdict === 'fail' ? 'fail' : 'error';
    const failing = r.report ? gateFamilies(r.report.gates).filter((f) => f.failures.length).map((f) => f.key) : [];
    const note = r.error ?? (failing.length ? `failing: ${failing.join(', ')}` : '');
    const link = r.report ? `<a href="${esc(encodeURIComponent(r.name))}/report.html">${esc(r.name)}</a>` : esc(r.name);
    return `<tr><td>${link}</td><td class="${cls}">${esc(verdict)}</td><td>${esc(note)}</td></tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lockstep ${esc(suiteName)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.pass{color:#080}.fail{color:#c00;font-weight:bold}.error{color:#a60;font-weight:bold}</style></head>
<body><h1>lockstep suite ${esc(suiteName)}</h1>
<table><thead><tr><th>case</th><th>verdict</th><th>notes</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}
