/**
 * Runs a suite file as vitest tests: one `describe` per suite, one `it` per
 * case, each asserting the case's report passes its gates (or, for a suite
 * that demonstrates a regression, that it fails on the named gate).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../testing/matchers.ts';
import { loadSuite } from './load.ts';
import { type CaseResult, runSuite } from './run.ts';
import { familyKey } from './families.ts';

export interface DescribeSuiteOptions {
  /** Expect the cases to fail, each on this gate family (e.g. "teacherForced.noisePred.cosine"). */
  expectFailOn?: string;
  goldenDir?: string;
  reportsDir?: string;
  /** Per-case test timeout in ms (default 10 minutes: cases run real models; vitest's own default is 5 s). */
  timeout?: number;
}

const DEFAULT_CASE_TIMEOUT_MS = 10 * 60_000;

export function describeSuite(file: string, opts: DescribeSuiteOptions = {}): void {
  const suite = loadSuite(file);
  const reportsDir = opts.reportsDir ?? join(tmpdir(), `lockstep-vitest-${process.pid}`);
  describe(`suite ${suite.name}`, () => {
    for (const c of suite.cases) {
      it(c.name, async () => {
        const [result] = await runSuite(suite, { cases: [c], reportsDir, golden: false, goldenDir: opts.goldenDir ?? 'golden' });
        assertCase(result, opts.expectFailOn);
      }, opts.timeout ?? DEFAULT_CASE_TIMEOUT_MS);
    }
  });
}

function assertCase(r: CaseResult, failOn: string | undefined): void {
  if (r.error) throw new Error(`${r.name} could not run: ${r.error}`);
  if (!failOn) {
    expect(r.report!).toPassGates();
    return;
  }
  expect(r.report!).not.toPassGates();
  const failing = r.report!.gates.filter((g) => !g.passed).map(familyKey);
  expect(failing).toContain(failOn);
}
