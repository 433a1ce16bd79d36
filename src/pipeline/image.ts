/** VAE output → 8-bit RGB, exactly as diffusers' VaeImageProcessor.postprocess + numpy_to_pil. */
import type { Tensor } from '../tensor/tensor.ts';
import { UsageError } from '../errors.ts';
import { encodeRgbPng } from './png.ts';
import { loadSharp } from '../util/sharp.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** HWC RGB. */
  data: Uint8Array;
}

const f = Math.fround;

/**
 * torch: (x / 2 + 0.5).clamp(0, 1) in float32; numpy: (x * 255).round() in
 * float32 with round-half-to-even, then uint8. Only batch item 0 is used.
 */
export function decodedToImage(decoded: Tensor<'float32'>): RgbImage {
  const [, c, height, width] = decoded.dims;
  if (decoded.dims.length !== 4 || c !== 3) throw new UsageError(`decoded image: expected [B,3,H,W], got [${decoded.dims.join(',')}]`);
  const plane = height * width;
  const data = new Uint8Array(plane * 3);
  const src = decoded.data;
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0, from = ch * plane, to = ch; p < plane; p++, from++, to += 3) {
      const v = f(f(src[from] / 2) + 0.5);
      const y = f((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
      // numpy rounds half to even. A NaN passes the clamp and is stored as 0 by the Uint8Array.
      const r = Math.round(y);
      data[to] = r - y === 0.5 && (r & 1) === 1 ? r - 1 : r;
    }
  }
  return { width, height, data };
}

/** The PNG lockstep writes for a generated image (src/pipeline/png.ts: why not sharp). */
export function encodePng(img: RgbImage): Buffer {
  return encodeRgbPng(img.width, img.height, img.data);
}

/**
 * Starts reading the input image (sharp decodes on libuv's threads) so that it overlaps with opening
 * the model's sessions; awaiting the promise gives the image or the reading error, as readInputImage.
 */
export function startReading(settings: { image?: string }): Promise<{ path: string; image: RgbImage } | null> {
  const reading = readInputImage(settings);
  reading.catch(() => undefined); // awaited (and its error thrown) after the model has opened
  return reading;
}

/** The `--image` of an image-to-image run, read; null for text-to-image. */
export async function readInputImage(settings: { image?: string }): Promise<{ path: string; image: RgbImage } | null> {
  if (settings.image === undefined) return null;
  return { path: settings.image, image: await readPng(settings.image) };
}

export async function readPng(path: string): Promise<RgbImage> {
  try {
    const sharp = await loadSharp();
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data) };
  } catch (err) {
    throw new UsageError(`${path}: cannot read image (${(err as Error).message})`);
  }
}
