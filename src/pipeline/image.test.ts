/**
 * The two pixel conversions of a run, bit for bit against what diffusers 0.27.2 recorded
 * (test/reference/families/<family>/traces): VaeImageProcessor.preprocess of the input PNG
 * (image/input.npy), and postprocess + numpy_to_pil of the decoded image (final/decoded.npy → final/image.png).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { decodedToImage, readPng } from './image.ts';
import { preprocessImage } from './img2img.ts';

const traces = readdirSync(FAMILIES_REFERENCE).flatMap((family) => {
  const dir = join(FAMILIES_REFERENCE, family, 'traces');
  return existsSync(dir) ? readdirSync(dir).map((name) => ({ label: `${family}/${name}`, dir: join(dir, name) })) : [];
});
const img2img = traces.filter((t) => existsSync(join(t.dir, 'image', 'input.npy')));

describe('pixel conversions against diffusers', () => {
  it('finds image-to-image traces of both families among the references', () => {
    expect(img2img.some((t) => t.label.startsWith('sd/'))).toBe(true);
    expect(img2img.some((t) => t.label.startsWith('sdxl/'))).toBe(true);
  });

  for (const t of img2img) {
    it(`${t.label}: the input PNG preprocessed is image/input, bitwise`, async () => {
      const ref = readNpy(join(t.dir, 'image', 'input.npy')) as Tensor<'float32'>;
      const [, , height, width] = ref.dims;
      const ours = preprocessImage(await readPng(join(t.dir, 'image', 'input.png')), height, width, 'input.png');
      expect(ours.dims).toEqual(ref.dims);
      expect(Buffer.from(ours.data.buffer).equals(Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength))).toBe(true);
    });
  }

  for (const t of traces) {
    it(`${t.label}: final/decoded to 8-bit RGB is final/image.png, exactly`, async () => {
      const ours = decodedToImage(readNpy(join(t.dir, 'final', 'decoded.npy')) as Tensor<'float32'>);
      const ref = await readPng(join(t.dir, 'final', 'image.png'));
      expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
      expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
    });
  }
});
