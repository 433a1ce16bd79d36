import type { Command } from 'commander';
import { EXIT_CANNOT_RUN, EXIT_PASS, EXIT_REGRESSION } from '../../errors.ts';
import { applyGates, applyOverrides, defaultThresholds, loadThresholdsFile, parseOverride } from '../../gates/index.ts';
import { renderMarkdown } from '../../report/markdown.ts';
import type { ReportDocument } from '../../report/schema.ts';
import { readReport, writeReport } from '../../report/write.ts';
import { setExitCode } from '../exit.ts';

interface ReportOptions {
  threshold: string[];
  thresholds?: string;
  defaults?: boolean;
  html: boolean;
}

/**
 * `lockstep report DIR`: re-judges a stored report.json with other
 * thresholds, without re-running any model, and re-renders report.md/html.
 */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('re-check a stored report.json against (other) thresholds, rewrite its verdict and re-render report.md/report.html')
    .argument('<dir>', 'report folder holding report.json')
    .option('--threshold <key=value>', 'override one threshold, e.g. cosine=0.999, teacherForced.noisePred.relL2=2e-3, final.image.psnr=off (repeatable)', collect, [])
    .option('--thresholds <file>', 'thresholds JSON file (nested like report.json "thresholds", or flat {"key": value})')
    .option('--defaults', "start from lockstep's default thresholds instead of the ones stored in the report")
    .option('--no-html', 'skip report.html')
    .action(async (dir: string, opts: ReportOptions, cmd: Command) => {
      const stored = readReport(dir);
      const overrides = [...(opts.thresholds ? loadThresholdsFile(opts.thresholds) : []), ...opts.threshold.map((t) => parseOverride(t))];
      const thresholds = applyOverrides(opts.defaults ? defaultThresholds() : stored.thresholds, overrides);
      const judged = await writeReport(dir, applyGates(stored, thresholds), { html: opts.html, evaluate: false });
      process.stdout.write(renderMarkdown(judged));
      setExitCode(cmd, exitCodeFor(judged));
    });
}

/** 1 when a gate failed; 2 when nothing failed but the run is incomplete or nothing was gated. */
export function exitCodeFor(r: ReportDocument): number {
  if (r.verdict === 'pass') return EXIT_PASS;
  return r.gates.some((g) => !g.passed) ? EXIT_REGRESSION : EXIT_CANNOT_RUN;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
