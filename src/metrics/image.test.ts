import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { psnr, ssim, type RgbImage } from './index.ts';

const W = 20;
const H = 16;

/** A structured test image; the same formula is in the numpy script below. */
function makeImage(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = (x * 9 + y * 5 + c * 40 + ((x * y) % 17) * 3) % 256;
  return { width: W, height: H, data };
}

/** Deterministic "noise" in [-20, 20], clipped to 0..255. */
function noisy(img: RgbImage): RgbImage {
  const data = img.data.map((v, i) => Math.min(255, Math.max(0, v + ((i * i * 31 + i * 17) % 41) - 20)));
  return { ...img, data };
}

/*
 * Expected values computed with numpy 2.4 + scipy 1.17, re-typing skimage's
 * structural_similarity (gaussian_weights=True, sigma=1.5, truncate=3.5,
 * use_sample_covariance=False, data_range=255, channel_axis=2):
 *
 *   y, x, c = np.meshgrid(np.arange(16), np.arange(20), np.arange(3), indexing='ij')
 *   img = (x*9 + y*5 + c*40 + ((x*y) % 17)*3) % 256
 *   i = np.arange(16*20*3).reshape(16, 20, 3)
 *   noisy = np.clip(img + (i*i*31 + i*17) % 41 - 20, 0, 255)
 *   f = lambda m: scipy.ndimage.gaussian_filter(m, sigma=1.5, truncate=3.5, mode='reflect')
 *   per channel: ux, uy, uxx, uyy, uxy = f(X), f(Y), f(X*X), f(Y*Y), f(X*Y)
 *     S = ((2ux·uy + C1)(2(uxy − ux·uy) + C2)) / ((ux² + uy² + C1)((uxx − ux²) + (uyy − uy²) + C2))
 *     mssim = S[5:-5, 5:-5].mean();   result = mean over channels
 *   psnr = 10·log10(255² / mean((img − noisy)²))
 */
const EXPECTED_SSIM = 0.8915182435219746;
const EXPECTED_PSNR = 26.004239670859764;

describe('psnr', () => {
  it('matches numpy and is +Infinity for identical images', () => {
    const a = makeImage();
    expect(psnr(a, noisy(a))).toBeCloseTo(EXPECTED_PSNR, 12);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('is 10·log10(255²) for a one-level difference everywhere', () => {
    const a = makeImage();
    const b = { ...a, data: a.data.map((v) => (v === 255 ? 254 : v + 1)) };
    expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(255), 12);
  });
});

describe('ssim', () => {
  it('is 1 for identical images', () => {
    const a = makeImage();
    expect(ssim(a, a)).toBeCloseTo(1, 14);
  });

  it('matches skimage-equivalent numpy on a noisy image', () => {
    const a = makeImage();
    expect(ssim(a, noisy(a))).toBeCloseTo(EXPECTED_SSIM, 12);
  });

  it('is symmetric and below 1 for any change', () => {
    const a = makeImage();
    const b = noisy(a);
    expect(ssim(b, a)).toBeCloseTo(ssim(a, b), 14);
    const one = { ...a, data: a.data.slice() };
    one.data[(8 * W + 10) * 3] ^= 1;
    expect(ssim(a, one)).toBeLessThan(1);
  });

  it('refuses images smaller than the 11×11 window and mismatched sizes', () => {
    const small: RgbImage = { width: 10, height: 12, data: new Uint8Array(10 * 12 * 3) };
    expect(() => ssim(small, small)).toThrow(UsageError);
    expect(() => ssim(small, small)).toThrow(/10x12 .* 11x11/);
    const a = makeImage();
    expect(() => psnr(a, small)).toThrow(/reference 20x16 vs candidate 10x12/);
    expect(() => psnr(a, { width: 20, height: 16, data: new Uint8Array(5) })).toThrow(/candidate image: 20x16 RGB needs 960 bytes, got 5/);
  });
});
