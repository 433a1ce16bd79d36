/** The Markdown summary for $GITHUB_STEP_SUMMARY: one row per case, then each failure in one line. */
import { basename } from 'node:path';
import { reportPage } from '../report/write.ts';
import { divergenceWhere } from '../report/format.ts';
import { shownPath } from '../util/path.ts';
import { describeFailure, gateFamilies } from './families.ts';
import type { CaseResult } from './run.ts';

export function renderSummary(suiteName: string, results: readonly CaseResult[], suiteFile: string): string {
  const passed = results.filter((r) => r.report?.verdict === 'pass' && !r.error).length;
  const status = passed === results.length ? '✅ pass' : results.some((r) => r.error) ? '⚠️ could not run' : '❌ fail';
  const lines = [
    `## lockstep \`${suiteName}\`: ${status} (${passed}/${results.length} cases pass)`,
    '',
    `Suite: \`${suiteFile}\``,
    '',
    '| case | verdict | first divergence | failing gates | report |',
    '| --- | --- | --- | --- | --- |',
    ...results.map(row),
  ];
  const details = results.flatMap(detail);
  if (details.length) lines.push('', '### Failures', '', ...details);
  return lines.join('\n') + '\n';
}

function row(r: CaseResult): string {
  const report = `\`${shownPath(r.reportDir)}/${basename(reportPage(r.reportDir))}\``;
  if (r.error || !r.report) return `| ${r.name} | ${r.stale ? '⚠️ stale golden' : '⚠️ could not run'} | | | ${report} |`;
  const failing = gateFamilies(r.report.gates).filter((f) => f.failures.length);
  const verdict = r.report.verdict === 'pass' ? '✅ pass' : '❌ fail';
  const div = divergenceWhere(r.report) ?? '—';
  const names = failing.slice(0, 3).map((f) => `\`${f.key}\``).join(', ') + (failing.length > 3 ? ` +${failing.length - 3} more` : '');
  return `| ${r.name} | ${verdict} | ${div} | ${names || '—'} | ${report} |`;
}

function detail(r: CaseResult): string[] {
  if (r.error) return [`- **${r.name}**: ${oneLine(r.error)}`];
  if (!r.report || r.report.verdict === 'pass') return [];
  const failing = gateFamilies(r.report.gates).filter((f) => f.failures.length);
  const gateLines = failing.map((f) => `- **${r.name}**: \`${describeFailure(f.failures[0])}\`${f.failures.length > 1 ? ` (${f.failures.length} steps fail)` : ''}`);
  const MAX = 8;
  if (gateLines.length > MAX) gateLines.splice(MAX, gateLines.length, `- **${r.name}**: … ${gateLines.length - MAX} more failing gate families in the report`);
  if (!r.report.complete) gateLines.unshift(`- **${r.name}**: run incomplete: ${oneLine(r.report.error ?? '')}`);
  return gateLines;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}
