import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { createGenerator, isNoiseKind, NOISE_KINDS, parseSeed, type NormalKernel } from '../../rng/index.ts';
import { writeNpy } from '../../tensor/npy.ts';
import { elementCount } from '../../tensor/tensor.ts';

/** Far beyond any latent; keeps a typo like 1,4,6400,6400 from exhausting memory. */
const MAX_ELEMENTS = 2 ** 28;
const KERNELS: readonly NormalKernel[] = ['avx2', 'scalar'];

interface NoiseOptions {
  seed: string;
  shape: string;
  generator: string;
  kernel: string;
  out: string;
}

/** `lockstep noise`: initial latents as torch or numpy would draw them, to a float32 .npy file. */
export function registerNoise(program: Command): void {
  program
    .command('noise')
    .description('write standard-normal noise exactly as torch.randn (CPU generator) or numpy RandomState.randn draws it, as float32 .npy')
    .requiredOption('--seed <n>', 'integer seed in [0, 2^64) (torch uses its low 32 bits; numpy needs < 2^32)')
    .requiredOption('--shape <dims>', 'comma-separated dims, e.g. 1,4,64,64')
    .option('--generator <kind>', `one of ${NOISE_KINDS.join(', ')}`, 'torch-cpu')
    .option('--kernel <kernel>', "torch-cpu only: 'avx2' (torch on x86-64 with AVX2) or 'scalar' (ATEN_CPU_CAPABILITY=default, glibc libm)", 'avx2')
    .requiredOption('--out <file.npy>', 'output .npy file (written atomically)')
    .action((opts: NoiseOptions) => {
      const dims = parseShape(opts.shape);
      const seed = parseSeed(opts.seed, '--seed');
      if (!isNoiseKind(opts.generator)) {
        throw new UsageError(`--generator: expected one of ${NOISE_KINDS.join(', ')}, got '${opts.generator}'`);
      }
      const kernel = parseKernel(opts.kernel, opts.generator);
      if (!opts.out.endsWith('.npy')) throw new UsageError(`--out: expected a file name ending in .npy, got '${opts.out}'`);
      const noise = createGenerator(opts.generator, seed, { kernel }).randn(dims);
      writeNpy(opts.out, noise);
      process.stdout.write(`${opts.out}: float32 [${dims.join(',')}] from ${opts.generator} seed ${seed}\n`);
    });
}

export function parseShape(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new UsageError(`--shape: expected comma-separated positive integers such as 1,4,64,64, got '${text}'`);
  }
  const dims = parts.map(Number);
  const n = elementCount(dims);
  if (n > MAX_ELEMENTS) throw new UsageError(`--shape: ${text} is ${n} elements; at most ${MAX_ELEMENTS} are supported`);
  return dims;
}

function parseKernel(text: string, generator: string): NormalKernel {
  if (!(KERNELS as readonly string[]).includes(text)) {
    throw new UsageError(`--kernel: expected one of ${KERNELS.join(', ')}, got '${text}'`);
  }
  if (text !== 'avx2' && generator !== 'torch-cpu') {
    throw new UsageError(`--kernel: only applies to --generator torch-cpu, not ${generator}`);
  }
  return text as NormalKernel;
}
