import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { EXIT_PASS, EXIT_REGRESSION } from '../../errors.ts';
import { defaultThresholds } from '../../gates/index.ts';
import { runLockstep } from '../../lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../../models/backend.ts';
import { BUILTIN_HELP, isBuiltin, resolveBuiltin } from '../../models/builtin.ts';
import { generate } from '../../pipeline/generate.ts';
import type { PipelineSettings } from '../../pipeline/settings.ts';
import { setExitCode } from '../exit.ts';
import { createProgress } from '../progress.ts';

const DEMO_SETTINGS: PipelineSettings = {
  prompt: 'a yellow star on a purple background',
  negativePrompt: '',
  seed: 42,
  noise: 'torch-cpu',
  steps: 20,
  scheduler: 'ddim',
  guidanceScale: 7.5,
  // The shapes model was trained on 64x64 images (the forged ones draw nothing at any size).
  height: 64,
  width: 64,
};

const DEMO_MODEL = 'builtin:shapes';

/** The README's first command: generate with the built-in trained model and a trace, check the model against it. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate an image and a trace with a built-in model (default: the trained shapes model), and compare the live model against that trace')
    .option('--out <dir>', 'where the demo writes', 'reports/demo')
    .option('--model <name>', `the model: ${BUILTIN_HELP}, or a model folder`, DEMO_MODEL)
    .action(async (opts: { out: string; model: string }, cmd: Command) => {
      const out = resolve(opts.out);
      const say = (s: string) => process.stdout.write(`${s}\n`);
      const model = isBuiltin(opts.model) ? await resolveBuiltin(opts.model, '--model') : resolve(opts.model);
      // Any other model runs its own scheduler: an LCM or Turbo model's is part of what it is.
      const settings: PipelineSettings = opts.model === DEMO_MODEL ? DEMO_SETTINGS : { ...DEMO_SETTINGS, scheduler: '' };
      say(`model:  ${model} (${describe(opts.model)})`);
      say(`prompt: "${DEMO_SETTINGS.prompt}"`);
      const gen = createProgress('generate');
      const result = await generate({
        model,
        settings,
        imageOut: join(out, 'image.png'),
        traceDir: join(out, 'trace'),
        onStep: (d, t) => gen.update(d, t),
      });
      gen.stop();
      say(`image:  ${join(out, 'image.png')}`);
      say(`trace:  ${join(out, 'trace')} (${DEMO_SETTINGS.steps} steps, every tensor as .npy; ${result.wallSeconds.toFixed(2)} s)`);
      const cmp = createProgress('compare');
      const report = await runLockstep({
        reference: { path: join(out, 'trace'), backend: DEFAULT_BACKEND },
        candidate: { path: model, backend: DEFAULT_BACKEND },
        settings,
        thresholds: defaultThresholds(),
        reportDir: join(out, 'report'),
        onStep: (d, t) => cmp.update(d, t),
      });
      cmp.stop();
      say(`report: ${join(out, 'report', 'report.html')} — verdict ${report.verdict.toUpperCase()} (${report.gates.length} gates)`);
      say(`next:   npx lockstep compare --reference ${join(out, 'trace')} --candidate <your model folder> --report reports/mine`);
      setExitCode(cmd, report.verdict === 'pass' ? EXIT_PASS : EXIT_REGRESSION);
    });
}

function describe(model: string): string {
  if (model === DEMO_MODEL) return 'builtin:shapes, a small SD 1.x model trained on synthetic shapes';
  return isBuiltin(model) ? `${model}, random weights forged by lockstep forge tiny` : 'your model folder';
}
