/**
 * Image metrics on 8-bit RGB: PSNR and SSIM. SSIM matches scikit-image's
 * `structural_similarity(a, b, channel_axis=2, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=255)`; see docs/metrics.md.
 */
import { UsageError } from '../errors.ts';

/** An 8-bit RGB image, HWC order (row-major, 3 bytes per pixel). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const MAX = 255;
const SIGMA = 1.5;
const TRUNCATE = 3.5;
/** scipy's gaussian_filter radius: int(truncate·σ + 0.5) = 5, so 11 taps. */
const RADIUS = Math.floor(TRUNCATE * SIGMA + 0.5);
const WIN_SIZE = 2 * RADIUS + 1;
const C1 = (0.01 * MAX) ** 2;
const C2 = (0.03 * MAX) ** 2;

/** 10·log10(255² / MSE) over all pixels and channels; identical images → +Infinity. */
export function psnr(a: RgbImage, b: RgbImage): number {
  checkPair(a, b);
  let sq = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    sq += d * d;
  }
  return sq === 0 ? Infinity : 10 * Math.log10((MAX * MAX) / (sq / a.data.length));
}

/** Mean structural similarity, averaged over the three channels (skimage semantics). */
export function ssim(a: RgbImage, b: RgbImage): number {
  checkPair(a, b);
  if (a.width < WIN_SIZE || a.height < WIN_SIZE) {
    throw new UsageError(`ssim: images of ${a.width}x${a.height} are smaller than the ${WIN_SIZE}x${WIN_SIZE} Gaussian window`);
  }
  let sum = 0;
  for (let c = 0; c < 3; c++) sum += ssimChannel(channel(a, c), channel(b, c), a.width, a.height);
  return sum / 3;
}

function checkPair(a: RgbImage, b: RgbImage): void {
  checkImage(a, 'reference image');
  checkImage(b, 'candidate image');
  if (a.width !== b.width || a.height !== b.height) {
    throw new UsageError(`image size mismatch: reference ${a.width}x${a.height} vs candidate ${b.width}x${b.height}`);
  }
}

function checkImage(img: RgbImage, what: string): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new UsageError(
      `${what}: ${img.width}x${img.height} RGB needs ${img.width * img.height * 3} bytes, got ${img.data.length}`,
    );
  }
}

function channel(img: RgbImage, c: number): Float64Array {
  const out = new Float64Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = img.data[3 * i + c];
  return out;
}

/** One channel: Gaussian-weighted local statistics, SSIM map, mean over the map cropped by RADIUS. */
function ssimChannel(x: Float64Array, y: Float64Array, w: number, h: number): number {
  const n = x.length;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const kernel = gaussianKernel();
  const [ux, uy, uxx, uyy, uxy] = [x, y, xx, yy, xy].map((m) => gaussianFilter(m, w, h, kernel));
  let sum = 0;
  for (let r = RADIUS; r < h - RADIUS; r++) {
    for (let col = RADIUS; col < w - RADIUS; col++) {
      const i = r * w + col;
      const mx = ux[i], my = uy[i];
      // use_sample_covariance=False: plain (biased) weighted variances, cov_norm = 1.
      const vx = uxx[i] - mx * mx;
      const vy = uyy[i] - my * my;
      const vxy = uxy[i] - mx * my;
      const num = (2 * mx * my + C1) * (2 * vxy + C2);
      const den = (mx * mx + my * my + C1) * (vx + vy + C2);
      sum += num / den;
    }
  }
  return sum / ((h - 2 * RADIUS) * (w - 2 * RADIUS));
}

/** scipy.ndimage's normalized 1-D Gaussian: exp(−x²/2σ²) for x in [−RADIUS, RADIUS], summing to 1. */
function gaussianKernel(): Float64Array {
  const k = new Float64Array(WIN_SIZE);
  let total = 0;
  for (let x = -RADIUS; x <= RADIUS; x++) total += k[x + RADIUS] = Math.exp((-0.5 * x * x) / (SIGMA * SIGMA));
  for (let i = 0; i < k.length; i++) k[i] /= total;
  return k;
}

/**
 * Separable filter, rows (axis 0) then columns (axis 1) as scipy does, with
 * mode 'reflect'. Each output is Σ_t k[t]·m[…] added in tap order t = −R…R,
 * the same float64 operations whatever the loop order; the row pass runs
 * along whole rows and the column pass reflects only at the borders.
 */
function gaussianFilter(m: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const tmp = new Float64Array(m.length);
  for (let r = 0; r < h; r++) {
    const row = r * w;
    for (let t = -RADIUS; t <= RADIUS; t++) {
      const kt = k[t + RADIUS];
      const src = reflect(r + t, h) * w;
      for (let c = 0; c < w; c++) tmp[row + c] += kt * m[src + c];
    }
  }
  const out = new Float64Array(m.length);
  for (let r = 0; r < h; r++) {
    const row = r * w;
    for (let c = 0; c < w; c++) {
      let s = 0;
      if (c >= RADIUS && c < w - RADIUS) {
        for (let t = -RADIUS; t <= RADIUS; t++) s += k[t + RADIUS] * tmp[row + c + t];
      } else {
        for (let t = -RADIUS; t <= RADIUS; t++) s += k[t + RADIUS] * tmp[row + reflect(c + t, w)];
      }
      out[row + c] = s;
    }
  }
  return out;
}

/** scipy 'reflect' (half-sample symmetric): d c b a | a b c d | d c b a. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}
