import { Command } from 'commander';
import { resolve } from 'node:path';
import { BUILTIN_HELP, isBuiltin, resolveBuiltin } from '../../models/builtin.ts';
import { generate } from '../../pipeline/generate.ts';
import { addBackendFlags, backendFromFlags } from '../backend-flags.ts';
import { type PipelineFlagValues, addPipelineFlags, settingsFromFlags } from '../pipeline-flags.ts';
import { createProgress } from '../progress.ts';

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('run text-to-image (image-to-image with --image) on a model folder exactly as diffusers does; optionally record every tensor as a trace')
    .requiredOption('--model <dir>', `model folder in the diffusers/optimum ONNX layout, or ${BUILTIN_HELP}`)
    .requiredOption('--out <image.png>', 'where to write the image')
    .option('--trace <dir>', 'record every intermediate tensor here (TRACE_FORMAT.md)')
    .option('--quiet', 'no progress output');
  addPipelineFlags(cmd, true);
  addBackendFlags(cmd);
  cmd.action(async (opts: PipelineFlagValues & Record<string, string | undefined> & { model: string; out: string; trace?: string; quiet?: boolean }) => {
    const progress = createProgress('generate', opts.quiet);
    try {
      const result = await generate({
        model: isBuiltin(opts.model) ? await resolveBuiltin(opts.model, '--model') : opts.model,
        settings: settingsFromFlags(opts),
        backend: backendFromFlags(opts),
        imageOut: opts.out,
        traceDir: opts.trace,
        onStep: (done, total) => progress.update(done, total),
        onWarning: (m) => process.stderr.write(`lockstep: warning: ${m}\n`),
      });
      progress.stop();
      process.stdout.write(`image: ${resolve(opts.out)}\n`);
      if (opts.trace) process.stdout.write(`trace: ${resolve(opts.trace)}\n`);
      process.stdout.write(`time: ${result.wallSeconds.toFixed(2)} s (ONNX Runtime ${result.ortSeconds.toFixed(2)} s in ${result.ortCalls} calls, ${result.ortSessionSeconds.toFixed(2)} s opening and releasing the models)\n`);
    } finally {
      progress.stop();
    }
  });
}
