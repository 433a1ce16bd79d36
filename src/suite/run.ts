/**
 * Running a suite: each selected case through the lockstep engine, one
 * report folder per case, then the suite-level outputs (index.html, JUnit,
 * Markdown summary). A case that cannot run (stale golden, bad trace) does not
 * stop the others; it is recorded and makes the run's exit code 2.
 */
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { hashTree } from '../forge/tiny.ts';
import { freshGolden } from '../golden/golden.ts';
import { runLockstep } from '../lockstep/engine.ts';
import type { BuildSpec } from '../lockstep/builds.ts';
import type { ReportDocument } from '../report/schema.ts';
import type { HtmlPolicy } from '../report/write.ts';
import { planMemory } from '../lockstep/memory-plan.ts';
import { loadedModels } from '../pipeline/loaded-models.ts';
import { backendOf, resolveBuild } from './builds.ts';
import type { Suite, SuiteCase } from './load.ts';

export interface CaseResult {
  name: string;
  reportDir: string;
  report: ReportDocument | null;
  /** Why the case could not run (exit 2). */
  error: string | null;
  stale: boolean;
  seconds: number;
}

export interface RunOptions {
  cases: readonly SuiteCase[];
  reportsDir: string;
  /** Compare against stored goldens (also implied by `reference.golden: true`). */
  golden: boolean;
  goldenDir: string;
  signal?: AbortSignal;
  onCase?: (c: SuiteCase, phase: 'start' | 'done', result?: CaseResult) => void;
  onStep?: (done: number, total: number) => void;
  /** Which cases get a report.html (default 'all'). */
  html?: HtmlPolicy;
}

export async function runSuite(suite: Suite, opts: RunOptions): Promise<CaseResult[]> {
  const useGolden = opts.golden || suite.reference.golden === true;
  // Builds are resolved once, before any case: a missing model fails the whole run early.
  const candidate = await resolveBuild(suite, 'candidate');
  const reference = useGolden ? null : await resolveBuild(suite, 'reference');
  const hashCache = new Map<string, Record<string, string>>();
  const hashes = (model: string) => hashCache.get(model) ?? hashCache.set(model, hashTree(model)).get(model)!;
  const results: CaseResult[] = [];
  // Cases share the loaded builds, unless a case must load one build at a time.
  const keep = reference && opts.cases.some((c) => planMemory(reference, candidate, c.settings, 'auto').sequential) ? null : loadedModels.keep();
  try {
    for (const c of opts.cases) {
      if (opts.signal?.aborted) break;
      opts.onCase?.(c, 'start');
      const ref = reference ?? (async () => goldenBuild(suite, c, opts.goldenDir, hashes));
      const result = await runCase(suite, c, ref, candidate, opts);
      results.push(result);
      opts.onCase?.(c, 'done', result);
    }
  } finally {
    await keep?.();
  }
  return results;
}

async function goldenBuild(suite: Suite, c: SuiteCase, root: string, hashes: (m: string) => Record<string, string>): Promise<BuildSpec> {
  return { path: await freshGolden(suite, c, root, hashes), backend: backendOf(suite.reference), label: 'golden' };
}

export function caseReportDir(reportsDir: string, suite: Suite, c: SuiteCase): string {
  return join(reportsDir, suite.name, c.name);
}

async function runCase(
  suite: Suite,
  c: SuiteCase,
  ref: BuildSpec | (() => Promise<BuildSpec>),
  candidate: BuildSpec,
  opts: RunOptions,
): Promise<CaseResult> {
  const started = performance.now();
  const reportDir = caseReportDir(opts.reportsDir, suite, c);
  const done = (report: ReportDocument | null, error: string | null, stale = false): CaseResult => ({
    name: c.name,
    reportDir,
    report,
    error,
    stale,
    seconds: (performance.now() - started) / 1000,
  });
  let reference: BuildSpec;
  try {
    reference = typeof ref === 'function' ? await ref() : ref;
  } catch (err) {
    if (err instanceof UsageError) return done(null, err.message, err.message.includes('stale golden'));
    throw err;
  }
  try {
    const report = await runLockstep({
      reference,
      candidate,
      settings: c.settings,
      thresholds: suite.thresholds,
      reportDir,
      allowPartialReference: suite.allowPartialReference,
      signal: opts.signal,
      onStep: opts.onStep,
      html: opts.html,
    });
    return done(report, null);
  } catch (err) {
    return done(null, err instanceof Error ? err.message : String(err));
  }
}

/** 0 all pass, 1 a gate failed, 2 a case could not run. */
export function suiteExitCode(results: readonly CaseResult[]): 0 | 1 | 2 {
  if (results.some((r) => r.error !== null || !r.report)) return 2;
  return results.every((r) => r.report!.verdict === 'pass') ? 0 : 1;
}
