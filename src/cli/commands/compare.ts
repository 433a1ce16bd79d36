import { Command } from 'commander';
import { resolve } from 'node:path';
import { EXIT_INTERRUPTED, EXIT_PASS, EXIT_REGRESSION } from '../../errors.ts';
import { recordedSettings } from '../../lockstep/builds.ts';
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
};

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('run a reference and a candidate build side by side from the same seed; compare every step teacher-forced and free-running')
    .requiredOption('--reference <path>', 'model folder or recorded trace folder (the build trusted)')
    .requiredOption('--candidate <path>', 'model folder or recorded trace folder (the build under test)')
    .requiredOption('--report <dir>', 'where report.json, report.md and report.html go')
    .option('--sequential', 'load one build at a time (run the reference to a trace on disk first, then the candidate against it): for large models on machines with little memory')
    .option('--quiet', 'no progress output');
  addPipelineFlags(cmd, false);
  addBackendFlags(cmd, 'ref');
  addBackendFlags(cmd, 'cand');
  addThresholdFlags(cmd);
  cmd.addHelpText('after', '\nWith a trace as reference (or candidate), pipeline settings default to its manifest.\nExit codes: 0 all gates pass, 1 a gate failed, 2 could not run, 130 interrupted.');
  cmd.action(async (opts: CompareFlags) => {
    const base = { ...recordedSettings(opts.candidate), ...recordedSettings(opts.reference) };
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
        sequential: Boolean(opts.sequential),
        onStep: (done, total) => progress.update(done, total),
      });
      progress.stop();
      const reportDir = resolve(opts.report);
      for (const f of report.findings) if (f.component === 'pipeline') process.stderr.write(`lockstep: warning: ${f.message}\n`);
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
