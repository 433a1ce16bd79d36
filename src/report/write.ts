/**
 * Writing and reading a report directory: report.json (the source of
 * truth, atomic), report.md, and report.html on request. The engine calls
 * writeReport after every step (html off, cheap) and once at the end.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { applyGates } from '../gates/evaluate.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { readPythonJson } from '../util/json.ts';
import { UsageError } from '../errors.ts';
import { renderMarkdown } from './markdown.ts';
import { parseReport } from './read-schema.ts';
import { REPORT_FILE, stringifyReport, type ReportDocument } from './schema.ts';

/** Which reports get a report.html: every one, only those that did not pass, or none (report.md/json always). */
export type HtmlPolicy = 'all' | 'failing' | 'none';
export const HTML_POLICIES: readonly HtmlPolicy[] = ['all', 'failing', 'none'];

export interface WriteOptions {
  /** Render report.html too (charts and heatmaps: slower); a policy is applied to the judged verdict. */
  html: boolean | HtmlPolicy;
  /** Re-judge with report.thresholds before writing (default true) so verdict and gates always match the data. */
  evaluate?: boolean;
}

/** Writes the report files into `dir`; returns the document as written. */
export async function writeReport(dir: string, report: ReportDocument, opts: WriteOptions): Promise<ReportDocument> {
  const doc = opts.evaluate === false ? report : applyGates(report);
  writeFileAtomic(join(dir, REPORT_FILE), stringifyReport(doc));
  writeFileAtomic(join(dir, 'report.md'), renderMarkdown(doc));
  if (wantsHtml(opts.html, doc)) {
    // Loaded only here: charts and heatmaps need canvas, chart.js and sharp, which the per-step writes and `report --no-html` never use.
    const { renderHtml } = await import('./html.ts');
    writeFileAtomic(join(dir, 'report.html'), await renderHtml(doc, dir));
  } else if (opts.html !== false) {
    // A final write without HTML: an older run's report.html must not pass for this one's.
    rmSync(join(dir, 'report.html'), { force: true });
  }
  return doc;
}

function wantsHtml(html: WriteOptions['html'], doc: ReportDocument): boolean {
  if (typeof html === 'boolean') return html;
  return html === 'all' || (html === 'failing' && doc.verdict !== 'pass');
}

/** The report page a reader should open in `dir`: report.html when written, else report.md. */
export function reportPage(dir: string): string {
  return join(dir, existsSync(join(dir, 'report.html')) ? 'report.html' : 'report.md');
}

/** Reads and validates `dir/report.json`; errors name the file and the key. */
export function readReport(dir: string): ReportDocument {
  const path = join(dir, REPORT_FILE);
  if (!existsSync(path)) throw new UsageError(`${path}: no report here (expected ${REPORT_FILE} in ${dir})`);
  return parseReport(readPythonJson(path), path);
}
