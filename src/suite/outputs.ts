/** Suite-level outputs after a run: index.html, JUnit XML, Markdown summary (+ $GITHUB_STEP_SUMMARY). */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderJunit } from '../junit/junit.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { renderIndexHtml } from './index-html.ts';
import type { Suite } from './load.ts';
import type { CaseResult } from './run.ts';
import { renderSummary } from './summary.ts';

export interface OutputOptions {
  reportsDir: string;
  junit?: string;
  summary?: string;
}

export function writeSuiteOutputs(suite: Suite, results: readonly CaseResult[], opts: OutputOptions): void {
  writeFileAtomic(join(opts.reportsDir, suite.name, 'index.html'), renderIndexHtml(suite.name, results));
  if (opts.junit) writeFileAtomic(opts.junit, renderJunit(suite.name, results));
  const summary = renderSummary(suite.name, results, suite.file);
  if (opts.summary) writeFileAtomic(opts.summary, summary);
  const gh = process.env.GITHUB_STEP_SUMMARY;
  if (gh) appendFileSync(gh, summary + '\n');
}
