import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { PRESETS } from '../../forge/config.ts';
import { forgePipeline, presetConfig } from '../../forge/tiny.ts';

/**
 * The `forge` command group. Returned so that other subcommands (`forge variant`)
 * can attach themselves: `forgeCommand(program).command('variant')…`.
 */
export function forgeCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'forge');
  if (existing) return existing;
  return program.command('forge').description('build Stable Diffusion pipelines as ONNX from seeded weights, and variants of them');
}

/** `lockstep forge tiny --out DIR [--seed N] [--preset tiny|sd|sd2|…|sd15]`. */
export function registerForge(program: Command): void {
  forgeCommand(program)
    .command('tiny')
    .description('forge a tiny pipeline of a diffusers family (seeded weights, optimum ONNX layout) into a folder, byte-for-byte reproducibly')
    .requiredOption('--out <dir>', 'output folder (created; files in it are overwritten)')
    .option('--seed <n>', 'weight seed, a non-negative integer', '0')
    .option(
      '--preset <name>',
      `hyper-parameters: ${Object.keys(PRESETS).join(', ')} (tiny: SD 1.x, the reference tiny-sd's shapes; sd: tiny + VAE encoder, ` +
        `DDIM config; sd2: SD 2.x conventions (OpenCLIP, linear projections, v-prediction) + VAE encoder; lcm: sd with a timestep_cond U-Net, ` +
        `LCM scheduler config; sdxl: two text encoders, text_time U-Net, SDXL conventions + VAE encoder; sd15: SD 1.5's real shapes, ~4.1 GB, external data)`,
      'tiny',
    )
    .action((opts: { out: string; seed: string; preset: string }) => {
      const seed = parseSeed(opts.seed);
      const config = presetConfig(opts.preset, '--preset');
      const result = forgePipeline({ outDir: opts.out, seed, config });
      process.stdout.write(`forged ${config.preset} pipeline (seed ${seed}, ${Object.keys(result.files).length} files) in ${result.outDir}\n`);
    });
}


function parseSeed(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--seed: expected a non-negative integer, got "${text}"`);
  }
  return Number(text);
}
