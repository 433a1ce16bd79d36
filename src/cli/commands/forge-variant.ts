import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { forgeVariant } from '../../forge/variants/forge-variant.ts';
import { KIND_NAMES } from '../../forge/variants/registry.ts';
import { forgeCommand } from './forge.ts';

interface VariantFlags {
  from: string;
  kind: string;
  out: string;
  components?: string;
  calibrate?: string[];
  layers?: string;
  eps?: string;
  gain?: string;
}

/** `lockstep forge variant --from DIR --kind KIND --out DIR [...]`. */
export function registerForgeVariant(program: Command): void {
  forgeCommand(program)
    .command('variant')
    .description('derive an optimized or deliberately faulty candidate from any model folder (diffusers/optimum ONNX layout)')
    .requiredOption('--from <dir>', 'source model folder')
    .requiredOption('--kind <kind>', `variant kind: ${KIND_NAMES.join(', ')}`)
    .requiredOption('--out <dir>', 'output model folder (replaced)')
    .option('--components <list>', 'comma-separated: text_encoder,unet,vae_decoder (default: the kind\'s own)')
    .option('--calibrate <trace...>', 'int8-qdq: trace folders to calibrate activation ranges from')
    .option('--layers <pattern>', 'fault:softmax-fp16, fault:groupnorm-eps: node names to affect (substring, or glob with *; comma-separated)')
    .option('--eps <x>', 'fault:groupnorm-eps: the wrong epsilon (default 1e-2)')
    .option('--gain <x>', 'fault:vae-fp16-overflow: gain before the fp16 cast (default 131072)')
    .action(async (f: VariantFlags) => {
      const record = await forgeVariant({
        from: f.from,
        kind: f.kind,
        out: f.out,
        components: f.components?.split(','),
        calibrate: f.calibrate,
        layers: f.layers,
        eps: f.eps === undefined ? undefined : parseNumber(f.eps, '--eps'),
        gain: f.gain === undefined ? undefined : parseNumber(f.gain, '--gain'),
      });
      const parts = Object.entries(record.components).map(([c, n]) => `${c}: ${n!.weights} weights, ${n!.nodes} nodes`);
      process.stdout.write(`forged ${record.kind} variant in ${f.out} (${parts.join('; ')})\n`);
    });
}

function parseNumber(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${flag}: expected a number, got "${text}"`);
  return v;
}
