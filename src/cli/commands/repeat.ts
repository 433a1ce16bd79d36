import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { EXIT_PASS, EXIT_REGRESSION, UsageError } from '../../errors.ts';
import { describeBackend } from '../../models/backend.ts';
import { type RepeatResult, repeatRuns } from '../../repeat/self-consistency.ts';
import { writeJsonAtomic } from '../../util/fs.ts';
import { addBackendFlags, backendFromFlags } from '../backend-flags.ts';
import { setExitCode } from '../exit.ts';
import { type PipelineFlagValues, addPipelineFlags, parseIntFlag, settingsFromFlags } from '../pipeline-flags.ts';
import { createProgress } from '../progress.ts';

type RepeatFlags = PipelineFlagValues & Record<string, string | undefined> & { model: string; runs: string; report?: string; quiet?: boolean };

export function registerRepeat(program: Command): void {
  const cmd = program
    .command('repeat')
    .description('run one build N times from scratch and check every per-step tensor and the final image are bitwise identical across runs')
    .requiredOption('--model <dir>', 'model folder in the diffusers/optimum ONNX layout')
    .option('--runs <n>', 'how many runs (≥ 2)', '3')
    .option('--report <dir>', 'write repeat.json here')
    .option('--quiet', 'no progress output');
  addPipelineFlags(cmd, false);
  addBackendFlags(cmd);
  cmd.addHelpText('after', '\nExit codes: 0 deterministic (every run bitwise identical), 1 not deterministic (the spread is printed), 2 could not run.');
  cmd.action(async (opts: RepeatFlags) => {
    const runs = parseIntFlag('--runs', opts.runs);
    if (runs < 2) throw new UsageError(`--runs must be at least 2 to compare runs, got ${runs}`);
    const backend = backendFromFlags(opts);
    const progress = createProgress('repeat', opts.quiet);
    const settings = settingsFromFlags(opts, { prompt: 'a photo of an astronaut riding a horse on mars', seed: 0 });
    const result = await repeatRuns({ model: opts.model, settings, backend, runs, onRun: (d, t) => progress.update(d, t) });
    progress.stop();
    process.stdout.write(summary(result, describeBackend(backend)));
    if (opts.report) {
      writeJsonAtomic(join(opts.report, 'repeat.json'), result);
      process.stdout.write(`report: ${resolve(opts.report, 'repeat.json')}\n`);
    }
    setExitCode(cmd, result.deterministic ? EXIT_PASS : EXIT_REGRESSION);
  });
}

function summary(r: RepeatResult, backend: string): string {
  const head = `${r.runs} runs of ${r.model} (${backend}), ${r.tensors.length} tensors incl. the image: `;
  if (r.deterministic) return `${head}DETERMINISTIC (all bitwise identical)\n`;
  const differing = r.tensors.filter((t) => !t.identical);
  const lines = differing.map((t) => `  ${t.name}: differs in runs ${t.differingRuns.join(',')}; max |Δ| ${t.maxAbs.toExponential(3)}, min cosine ${t.minCosine}`);
  return `${head}NOT DETERMINISTIC: ${differing.length} tensors differ from run 1\n${lines.join('\n')}\n`;
}
