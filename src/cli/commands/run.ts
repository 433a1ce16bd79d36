/** `lockstep run SUITE`: every case (or a shard) through the lockstep engine; reports, JUnit, summary. */
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.ts';
import { loadSuite } from '../../suite/load.ts';
import { writeSuiteOutputs } from '../../suite/outputs.ts';
import { type CaseResult, runSuite, suiteExitCode } from '../../suite/run.ts';
import { parseShard, selectCases } from '../../suite/select.ts';
import { terminalSummary } from '../../report/terminal.ts';
import { HTML_POLICIES, type HtmlPolicy, reportPage } from '../../report/write.ts';
import { setExitCode } from '../exit.ts';

export interface SuiteRunFlags {
  case?: string[];
  shard?: string;
  junit?: string;
  summary?: string;
  reports: string;
  goldenDir: string;
  quiet?: boolean;
  html: HtmlPolicy;
}

export function addSuiteRunFlags(cmd: Command): Command {
  return cmd
    .option('--case <name>', 'run only this case (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--shard <i/n>', 'run only shard i of n (1-based; cases dealt round-robin)')
    .option('--junit <file>', 'write JUnit XML (one testcase per case × gate family)')
    .option('--summary <file>', 'write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set)')
    .option('--reports <dir>', 'report folders go to <dir>/<suite>/<case>/', 'reports')
    .option('--golden-dir <dir>', 'where goldens live (<dir>/<suite>/<case>/)', 'golden')
    .option('--quiet', 'no per-case progress lines')
    .addOption(
      new Option('--html <which>', "which cases get a report.html (charts, heatmaps): all, failing (the others keep report.md and report.json; `lockstep report DIR` renders one later) or none")
        .choices(HTML_POLICIES)
        .default('all'),
    );
}

/** Shared by `run` and `golden check`; returns the exit code. */
export async function runSuiteCommand(file: string, flags: SuiteRunFlags, golden: boolean): Promise<number> {
  const suite = loadSuite(file);
  const cases = selectCases(suite, flags.case, flags.shard ? parseShard(flags.shard) : undefined);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const results = await runSuite(suite, {
      cases,
      reportsDir: flags.reports,
      golden,
      goldenDir: flags.goldenDir,
      html: flags.html,
      signal: controller.signal,
      onCase: (c, phase, r) => {
        if (!flags.quiet && phase === 'done' && r) process.stderr.write(`${suite.name}/${c.name}: ${caseLine(r)}\n`);
      },
    });
    writeSuiteOutputs(suite, results, { reportsDir: flags.reports, junit: flags.junit, summary: flags.summary });
    const code = suiteExitCode(results);
    if (code === 2) throw new UsageError(couldNotRun(results));
    return code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** One line for the cases that could not run (the error printer keeps errors to one line). */
function couldNotRun(results: readonly CaseResult[]): string {
  const failed = results.filter((r) => r.error);
  if (failed.length === 0) return 'a case could not run';
  if (failed.length === 1) return failed[0].error!;
  return `${failed.length} cases could not run: ${failed.map((r) => `${r.name}: ${r.error}`).join('; ')}`;
}

function caseLine(r: CaseResult): string {
  if (r.error || !r.report) return `COULD NOT RUN: ${r.error}`;
  const warnings = r.report.findings.filter((f) => f.component === 'pipeline').map((f) => `warning: ${f.message}\n`);
  return `\n${[...warnings, terminalSummary(r.report, reportPage(r.reportDir))].join('').replace(/^/gm, '  ').trimEnd()}`;
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('run a suite: every case (or a shard) compared step by step; reports, index.html, JUnit and a Markdown summary')
    .argument('<suite>', 'suite file (YAML or JSON), see docs/suites.md');
  addSuiteRunFlags(cmd);
  cmd.addHelpText('after', '\nExit codes: 0 all gates pass, 1 a gate failed, 2 could not run (bad suite, missing model, stale golden).');
  cmd.action(async (file: string, flags: SuiteRunFlags) => setExitCode(cmd, await runSuiteCommand(file, flags, false)));
}
