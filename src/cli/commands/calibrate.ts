import { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.ts';
import { calibrate, calibrationFileContent } from '../../calibrate/calibrate.ts';
import { DEFAULT_RULE } from '../../calibrate/thresholds.ts';
import { writeJsonAtomic } from '../../util/fs.ts';
import { addBackendFlags, backendFromFlags } from '../backend-flags.ts';
import { type PipelineFlagValues, addPipelineFlags, parseNumberFlag, settingsFromFlags } from '../pipeline-flags.ts';

type CalibrateFlags = PipelineFlagValues & Record<string, string | undefined> & { model: string; out: string; factor?: string; work?: string; quiet?: boolean };

export function registerCalibrate(program: Command): void {
  const cmd = program
    .command('calibrate')
    .description('measure the noise floor of a model against itself under harmless backend changes (optimization level, threads) and write thresholds as a multiple of it')
    .requiredOption('--model <dir>', 'the reference model folder')
    .requiredOption('--out <thresholds.json>', 'thresholds file for compare --thresholds (with a calibration block recording the floors)')
    .option('--factor <K>', `thresholds = K × floor (default ${DEFAULT_RULE.factor})`)
    .option('--work <dir>', 'keep the per-change lockstep reports here (default: a temporary folder, removed)')
    .option('--quiet', 'no progress output');
  addPipelineFlags(cmd, false);
  addBackendFlags(cmd);
  cmd.addHelpText(
    'after',
    `\nBounds: relL2 <= max(K*floor, ${DEFAULT_RULE.epsRelL2}); cosine >= 1 - max(K*(1-floorCosine), ${DEFAULT_RULE.epsCosine}); per tensor, worst over steps and changes.\nCalibrate with the settings you compare with (steps, size, scheduler): free-running drift grows with steps.\nExit codes: 0 written, 2 could not run.`,
  );
  cmd.action(async (opts: CalibrateFlags) => {
    const factor = opts.factor === undefined ? DEFAULT_RULE.factor : parseNumberFlag('--factor', opts.factor);
    if (!(factor >= 1)) throw new UsageError(`--factor must be ≥ 1 (a threshold below the floor fails the reference against itself), got ${factor}`);
    const doc = await calibrate({
      model: opts.model,
      settings: settingsFromFlags(opts, { prompt: 'a photo of an astronaut riding a horse on mars', seed: 0 }),
      backend: backendFromFlags(opts),
      rule: { ...DEFAULT_RULE, factor },
      workDir: opts.work,
      onChange: (done, total, name) => opts.quiet || process.stderr.write(`calibrate: ${done}/${total} ${name}\n`),
    });
    writeJsonAtomic(opts.out, calibrationFileContent(doc));
    const tf = doc.calibration.floors['teacherForced.noisePred'];
    const worst = tf ? `teacher-forced noise_pred floor: relL2 ${tf.relL2.toExponential(2)}, 1-cosine ${(1 - tf.cosine).toExponential(2)}; ` : '';
    process.stdout.write(`${worst}thresholds (K=${factor}): ${resolve(opts.out)}\n`);
  });
}
