/**
 * Assembles src/metrics/kernel/sums.wat into sums.wasm (committed, so that
 * running lockstep needs no assembler). `npm run build:wasm`; the kernel test
 * fails when the committed binary is not what this produces.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { writeFileAtomic } from '../src/util/fs.ts';

export const KERNEL_SOURCE = fileURLToPath(new URL('../src/metrics/kernel/sums.wat', import.meta.url));
export const KERNEL_BINARY = fileURLToPath(new URL('../src/metrics/kernel/sums.wasm', import.meta.url));

export async function assembleKernel(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(KERNEL_SOURCE, readFileSync(KERNEL_SOURCE, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assembleKernel();
  writeFileAtomic(KERNEL_BINARY, bytes);
  console.log(`wrote ${KERNEL_BINARY} (${bytes.length} bytes)`);
}
