/** Files a report folder may hold beside report.json: final images and final latents, synthetic. */
import { join } from 'node:path';
import sharp from 'sharp';
import { writeNpy } from '../../tensor/npy.ts';
import { float32 } from '../../tensor/tensor.ts';
import { writeFileAtomic } from '../../util/fs.ts';

/** A smooth 64×64 RGB gradient; `bump` brightens a square in the middle (the "regression"). */
async function gradientPng(bump: number): Promise<Buffer> {
  const w = 64;
  const raw = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const inside = x > 24 && x < 40 && y > 24 && y < 40 ? bump : 0;
      raw.set([x * 4, y * 4, Math.min(255, 128 + inside)], (y * w + x) * 3);
    }
  }
  return sharp(raw, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
}

export async function writeFixtureFiles(dir: string): Promise<void> {
  writeFileAtomic(join(dir, 'images', 'reference.png'), await gradientPng(0));
  writeFileAtomic(join(dir, 'images', 'candidate.png'), await gradientPng(6));
  const n = 4 * 16 * 16;
  const ref = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 7) * (1 + (i % 16) / 16));
  const cand = ref.map((v, i) => v + (i % 97 === 0 ? 3e-3 : 1e-5 * Math.cos(i)));
  writeNpy(join(dir, 'tensors', 'final_latents.reference.npy'), float32([1, 4, 16, 16], ref));
  writeNpy(join(dir, 'tensors', 'final_latents.candidate.npy'), float32([1, 4, 16, 16], cand));
}
