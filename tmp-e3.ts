import { readNpy } from './src/tensor/npy.ts';
import { makeAlphasCumprod } from './src/schedulers/betas.ts';
import { readStackedRun } from './src/schedulers/testing/stacked-reference.ts';
const cfg = readStackedRun('euler-karras_steps25_seed30').manifest.schedulerConfig as any;
const ours = makeAlphasCumprod({ ...cfg, rescale_betas_zero_snr: false });
const ref = readNpy('/tmp/ac_e.npy').data as Float32Array;
let bad = 0; for (let i = 0; i < 1000; i++) if (ours[i] !== ref[i]) bad++;
console.log('ac diffs', bad);
