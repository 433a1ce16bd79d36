/** lockstep's PNG writer, read back by an independent decoder (sharp/libvips), which checks every chunk's CRC. */
import sharp from 'sharp';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { readPng } from './image.ts';
import { encodeRgbPng } from './png.ts';

async function decode(png: Buffer): Promise<{ width: number; height: number; channels: number; data: Uint8Array }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data) };
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

describe('encodeRgbPng', () => {
  for (const [width, height] of [
    [1, 1],
    [64, 64],
    [7, 300],
    [129, 3],
  ] as const) {
    it(`${width}×${height}: decodes to the same 8-bit RGB pixels`, async () => {
      const rgb = noise(width * height * 3, width * 31 + height);
      const back = await decode(encodeRgbPng(width, height, rgb));
      expect([back.width, back.height, back.channels]).toEqual([width, height, 3]);
      expect(Buffer.from(back.data).equals(Buffer.from(rgb))).toBe(true);
    });
  }

  it("re-encodes diffusers' own final image (PIL's PNG) pixel for pixel", async () => {
    const ref = await readPng(join(FAMILIES_REFERENCE, 'sd', 'traces', 'ddim_s4', 'final', 'image.png'));
    const back = await decode(encodeRgbPng(ref.width, ref.height, ref.data));
    expect(Buffer.from(back.data).equals(Buffer.from(ref.data))).toBe(true);
  });

  it('writes chunk CRCs the decoder checks: a corrupted one is refused', async () => {
    const png = encodeRgbPng(4, 4, noise(48, 1));
    const ihdrCrc = 8 + 8 + 13; // signature, IHDR length + type, IHDR data
    png[ihdrCrc] ^= 0xff;
    await expect(decode(png)).rejects.toThrow();
  });

  it('refuses pixel data of another size than width × height × 3', () => {
    expect(() => encodeRgbPng(4, 4, new Uint8Array(47))).toThrow(/47 bytes are not a 4×4 RGB image \(expected 48\)/);
    expect(() => encodeRgbPng(0, 4, new Uint8Array(0))).toThrow(RangeError);
  });
});
