import { Command } from 'commander';
import { exportInputs } from '../../exchange/export-inputs.ts';
import { parseComponents } from '../../exchange/format.ts';

export function registerExportInputs(program: Command): void {
  program
    .command('export-inputs')
    .description("write the exact inputs a reference trace gave each component call, for a runtime Node cannot drive to answer (see docs/other-runtimes.md)")
    .requiredOption('--trace <dir>', 'reference trace (recorded with generate --trace, or by diffusers)')
    .requiredOption('--out <dir>', 'where the inputs, manifest.json and README.md go')
    .option('--component <list>', 'unet, text_encoder, text_encoder_2 (SDXL), vae_encoder (image-to-image), vae_decoder (comma-separated)', 'unet')
    .addHelpText('after', '\nThen answer every call in OUT/manifest.json into an outputs folder and run lockstep import-outputs.\nExit codes: 0 written, 2 could not run.')
    .action((opts: { trace: string; out: string; component: string }) => {
      const m = exportInputs({ trace: opts.trace, out: opts.out, components: parseComponents(opts.component) });
      process.stdout.write(`exported ${m.calls.length} calls (${m.components.join(', ')}) to ${opts.out}; what to answer: ${opts.out}/manifest.json\n`);
    });
}
