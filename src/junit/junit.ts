/**
 * JUnit XML for CI test tabs: one <testsuite> per suite case, one <testcase>
 * per gate family evaluated (failure message = its first failing gate), and
 * an errored "run" testcase when a case could not run or stopped early.
 */
import { type GateFamily, describeFailure, gateFamilies } from '../suite/families.ts';
import type { CaseResult } from '../suite/run.ts';

export function renderJunit(suiteName: string, results: readonly CaseResult[]): string {
  const suites = results.map((r) => caseSuite(suiteName, r));
  const total = sum(suites, 'tests');
  const failures = sum(suites, 'failures');
  const errors = sum(suites, 'errors');
  const time = results.reduce((s, r) => s + r.seconds, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(`lockstep ${suiteName}`)}" tests="${total}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

interface Rendered {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
}

function sum(list: Rendered[], key: 'tests' | 'failures' | 'errors'): number {
  return list.reduce((s, x) => s + x[key], 0);
}

function caseSuite(suiteName: string, r: CaseResult): Rendered {
  const classname = `${suiteName}.${r.name}`;
  const families = r.report ? gateFamilies(r.report.gates) : [];
  const cases = families.map((f) => familyCase(classname, f));
  const problem = r.error ?? (r.report && !r.report.complete ? `run incomplete: ${r.report.error ?? 'unknown reason'}` : null);
  if (problem) cases.unshift(`    <testcase classname="${attr(classname)}" name="run" time="${r.seconds.toFixed(3)}">\n      <error message="${attr(problem)}" type="${r.stale ? 'stale-golden' : 'could-not-run'}"/>\n    </testcase>`);
  const failures = families.filter((f) => f.failures.length > 0).length;
  const errors = problem ? 1 : 0;
  const props = r.report ? `\n    <properties>\n      <property name="verdict" value="${r.report.verdict}"/>\n      <property name="report" value="${attr(r.reportDir)}"/>\n    </properties>` : '';
  const xml = `  <testsuite name="${attr(`${suiteName}/${r.name}`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${r.seconds.toFixed(3)}">${props}\n${cases.join('\n')}\n  </testsuite>`;
  return { xml, tests: cases.length, failures, errors };
}

function familyCase(classname: string, f: GateFamily): string {
  const open = `    <testcase classname="${attr(classname)}" name="${attr(f.key)}" time="0">`;
  if (f.failures.length === 0) return `${open}</testcase>`;
  const lines = f.failures.map(describeFailure);
  const body = `${f.failures.length} of ${f.gates.length} gates failed:\n${lines.join('\n')}`;
  return `${open}\n      <failure message="${attr(lines[0])}" type="gate">${text(body)}</failure>\n    </testcase>`;
}

function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
