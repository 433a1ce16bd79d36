/**
 * Heatmaps for report.html, as PNG bytes via sharp (loaded on first use): each final-latent
 * channel of reference and candidate on one shared value scale (so they
 * can be compared by eye), and |candidate − reference| on its own scale
 * starting at 0 (so a tiny difference is still visible; its max is stated
 * in the legend). Final images get a per-pixel |diff| map the same way.
 */
import { loadSharp } from '../util/sharp.ts';
import { toFloat64, type Tensor } from '../tensor/tensor.ts';

type Rgb = readonly [number, number, number];

/** Viridis, sampled: perceptually uniform for signed values. */
const VIRIDIS: Rgb[] = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
/** Inferno, sampled: black = no difference, bright = the largest. */
const INFERNO: Rgb[] = [[0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85], [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164]];

export type ColorMap = 'viridis' | 'inferno';
const MAPS: Record<ColorMap, Rgb[]> = { viridis: VIRIDIS, inferno: INFERNO };
/** Latents are small (e.g. 16×16): blow them up so a pixel is visible. */
const TILE = 160;

function colorAt(map: Rgb[], t: number): Rgb {
  if (Number.isNaN(t)) return [255, 0, 255]; // NaN shows as magenta
  const x = Math.min(Math.max(t, 0), 1) * (map.length - 1);
  const i = Math.min(Math.floor(x), map.length - 2);
  const f = x - i;
  const [a, b] = [map[i], map[i + 1]];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as unknown as Rgb;
}

/** Values in C order [h, w] mapped onto [lo, hi] with a colour map, as a PNG of `size` px width. */
export async function heatmapPng(values: ArrayLike<number>, h: number, w: number, lo: number, hi: number, map: ColorMap, size = TILE): Promise<Buffer> {
  const rgb = Buffer.alloc(h * w * 3);
  const span = hi - lo || 1;
  for (let i = 0; i < h * w; i++) rgb.set(colorAt(MAPS[map], (values[i] - lo) / span), i * 3);
  const height = Math.max(1, Math.round((size * h) / w));
  const sharp = await loadSharp();
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).resize(size, height, { kernel: 'nearest' }).png().toBuffer();
}

/** A horizontal colour bar for a legend: the same 0 → 1 ramp on every row. */
export function colorBarPng(map: ColorMap, width = 160, height = 12): Promise<Buffer> {
  const ramp = Array.from({ length: width * height }, (_, i) => (i % width) / (width - 1));
  return heatmapPng(ramp, height, width, 0, 1, map, width);
}

export interface ChannelMaps {
  channel: number;
  reference: Buffer;
  candidate: Buffer;
  diff: Buffer;
  /** Shared value scale of reference and candidate. */
  min: number;
  max: number;
  /** The |diff| scale runs 0 … maxDiff. */
  maxDiff: number;
}

/** Per-channel heatmaps of two latents [1, C, h, w] (or [C, h, w]); throws on a shape mismatch. */
export async function latentHeatmaps(ref: Tensor, cand: Tensor): Promise<ChannelMaps[]> {
  const dims = ref.dims.length === 4 ? ref.dims.slice(1) : ref.dims;
  if (dims.length !== 3 || ref.dims.join() !== cand.dims.join()) {
    throw new Error(`latents must be [1,C,h,w] and agree: reference [${ref.dims}] vs candidate [${cand.dims}]`);
  }
  const [c, h, w] = dims;
  const a = toFloat64(ref);
  const b = toFloat64(cand);
  const out: ChannelMaps[] = [];
  for (let ch = 0; ch < c; ch++) {
    const ra = a.subarray(ch * h * w, (ch + 1) * h * w);
    const rb = b.subarray(ch * h * w, (ch + 1) * h * w);
    const diff = ra.map((v, i) => Math.abs(rb[i] - v));
    const [min, max] = finiteRange([ra, rb]);
    const maxDiff = finiteRange([diff])[1];
    out.push({
      channel: ch,
      reference: await heatmapPng(ra, h, w, min, max, 'viridis'),
      candidate: await heatmapPng(rb, h, w, min, max, 'viridis'),
      diff: await heatmapPng(diff, h, w, 0, maxDiff, 'inferno'),
      min,
      max,
      maxDiff,
    });
  }
  return out;
}

function finiteRange(arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const arr of arrays) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

export interface ImageDiff {
  diff: Buffer;
  /** Largest per-pixel difference (max over R, G, B), 0–255. */
  maxDiff: number;
  width: number;
  height: number;
}

/** |candidate − reference| of two 8-bit images, or a reason why not. */
export async function imageDiff(refPng: Buffer, candPng: Buffer): Promise<ImageDiff | string> {
  const [a, b] = await Promise.all([rawRgb(refPng), rawRgb(candPng)]);
  if (a.width !== b.width || a.height !== b.height) {
    return `sizes differ: reference ${a.width}×${a.height}, candidate ${b.width}×${b.height}`;
  }
  const n = a.width * a.height;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    d[i] = Math.max(...[0, 1, 2].map((k) => Math.abs(a.data[i * 3 + k] - b.data[i * 3 + k])));
  }
  const maxDiff = finiteRange([d])[1];
  const diff = await heatmapPng(d, a.height, a.width, 0, maxDiff, 'inferno', a.width);
  return { diff, maxDiff, width: a.width, height: a.height };
}

async function rawRgb(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
