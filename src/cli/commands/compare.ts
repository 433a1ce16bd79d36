import { isBuiltin, resolveBuiltin } from '../../models/builtin.ts';
import { Command } from 'commander';
import { resolve } from 'node:path';
import { EXIT_INTERRUPTED, EXIT_PASS, EXIT_REGRESSION, UsageError } from '../../errors.ts';
import type { PipelineSettings } from '../../pipeline/settings.ts';
import { buildKind, recordedSettings } from '../../lockstep/builds.ts';
import { runLockstep } from '../../lockstep/engine.ts';
import { terminalSummary } from '../../report/terminal.ts';
import { addBackendFlags, backendFromFlags } from '../backend-flags.ts';
import { setExitCode } from '../exit.ts';
import { type PipelineFlagValues, addPipelineFlags, settingsFromFlags } from '../pipeline-flags.ts';
import { createProgress } from '../progress.ts';
import { addThresholdFlags, thresholdsFromFlags } from '../threshold-flags.ts';

type CompareFlags = PipelineFlagValues & Record<string, string | undefined> & {
  reference: string;
  candidate: string;
  report: string;
  threshold?: string[];
  thresholds?: string;
  quiet?: boolean;
  sequential?: boolean;
  allowPartialReference?: boolean;
};

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('run a reference and a candidate build side by side from the same seed; compare every step teacher-forced and free-running')
    .requiredOption('--reference <path>', 'model folder, recorded trace folder or builtin: model (the build trusted)')
    .requiredOption('--candidate <path>', 'model folder, recorded trace folder or builtin: model (the build under test)')
    .requiredOption('--report <dir>', 'where report.json, report.md and report.html go')
    .option('--sequential', 'load one build at a time (run the reference to a trace on disk first, then the candidate against it); by default this happens by itself when two live builds would not fit in the memory available')
    .option('--no-sequential', 'hold both live builds at once even when the memory estimate says they will not fit')
    .option('--allow-partial-reference', 'compare against an incomplete reference trace (interrupted run, missing steps) instead of refusing it; the report is then complete: false and never passes')
    .option('--quiet', 'no progress output');
  addPipelineFlags(cmd, false);
  addBackendFlags(cmd, 'ref');
  addBackendFlags(cmd, 'cand');
  addThresholdFlags(cmd);
  cmd.addHelpText('after', '\nWith a trace as reference (or candidate), pipeline settings default to its manifest.\nExit codes: 0 all gates pass, 1 a gate failed, 2 could not run, 130 interrupted.');
  cmd.action(async (opts: CompareFlags) => {
    if (isBuiltin(opts.reference)) opts.reference = await resolveBuiltin(opts.reference, '--reference');
    if (isBuiltin(opts.candidate)) opts.candidate = await resolveBuiltin(opts.candidate, '--candidate');
    const base = { ...recordedSettings(opts.candidate), ...recordedSettings(opts.reference) };
    requireRunIdentity(opts, base);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    const progress = createProgress('compare', opts.quiet);
    try {
      const report = await runLockstep({
        reference: { path: opts.reference, backend: backendFromFlags(opts, 'ref') },
        candidate: { path: opts.candidate, backend: backendFromFlags(opts, 'cand') },
        settings: settingsFromFlags(opts, base),
        thresholds: thresholdsFromFlags(opts),
        reportDir: opts.report,
        signal: controller.signal,
        sequential: opts.sequential ?? 'auto',
        onNotice: (message) => process.stderr.write(`lockstep: ${message}\n`),
        allowPartialReference: Boolean(opts.allowPartialReference),
        onStep: (done, total) => progress.update(done, total),
      });
      progress.stop();
      const reportDir = resolve(opts.report);
      for (const f of report.findings) if (f.component === 'pipeline') process.stderr.write(`lockstep: warning: ${f.message}\n`);
      if (report.partial) {
        process.stdout.write(`verdict: FAIL (${report.partial}; a partial comparison never passes)\nreport: ${reportDir}/report.html\n`);
        setExitCode(cmd, EXIT_REGRESSION);
        return;
      }
      if (!report.complete) {
        process.stderr.write(`lockstep: ${report.error}; partial report in ${reportDir}\n`);
        setExitCode(cmd, EXIT_INTERRUPTED);
        return;
      }
      process.stdout.write(terminalSummary(report, `${reportDir}/report.html`));
      setExitCode(cmd, report.verdict === 'pass' ? EXIT_PASS : EXIT_REGRESSION);
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
    }
  });
}

/**
 * --prompt and --seed are required, as for generate, unless a trace build records them (or both
 * builds are traces, and nothing runs): an empty
 * prompt and seed 0 chosen silently make the guidance delta exactly zero, which passes trivially.
 */
function requireRunIdentity(opts: CompareFlags, recorded: Partial<PipelineSettings>): void {
  // Two recorded traces run nothing: their settings are whatever they recorded.
  if (buildKind(opts.reference) === 'trace' && buildKind(opts.candidate) === 'trace') return;
  for (const [flag, given, fromTrace] of [['--prompt', opts.prompt, recorded.prompt], ['--seed', opts.seed, recorded.seed]] as const) {
    if (given === undefined && fromTrace === undefined) {
      throw new UsageError(`${flag} is required (as for generate) unless a trace build records it in its manifest's pipeline settings`);
    }
  }
}
