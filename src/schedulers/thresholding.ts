/**
 * diffusers' `_threshold_sample` (dynamic thresholding, Imagen
 * arXiv 2205.11487): per batch element, s = torch.quantile(|x0|, ratio)
 * clamped to [1, sample_max_value]; x0 is clamped to [-s, s] and divided by s.
 * float32 as torch computes it: rank = q·(n−1), weight = rank − floor(rank),
 * and torch's lerp between the two sorted neighbours.
 */
import { f } from './ops.ts';

/** torch.lerp(a, b, w) on float32: the form depends on |w| < 0.5, as ATen's kernel does. */
function lerpF(a: number, b: number, w: number): number {
  return Math.abs(w) < 0.5 ? f(a + f(w * f(b - a))) : f(b - f(f(b - a) * f(1 - w)));
}

/** torch.quantile(values, q) with linear interpolation, for float32 values. */
export function quantileF32(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  if (Number.isNaN(sorted[sorted.length - 1])) return NaN;
  const rank = f(f(q) * (sorted.length - 1));
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  return lerpF(sorted[below], sorted[above], f(rank - below));
}

/** Thresholds x0 (batch-major, `batch` equal parts) as diffusers' _threshold_sample does. */
export function thresholdSample(x0: Float32Array, batch: number, ratio: number, sampleMaxValue: number): Float32Array {
  const per = x0.length / batch;
  const out = new Float32Array(x0.length);
  for (let b = 0; b < batch; b++) {
    const part = x0.subarray(b * per, (b + 1) * per);
    const q = quantileF32(part.map(Math.abs), ratio);
    // torch.clamp(s, min=1, max=sample_max_value): max wins when it is below 1.
    const s = Math.min(Math.max(q, 1), f(sampleMaxValue));
    for (let k = 0; k < per; k++) out[b * per + k] = f(Math.min(Math.max(part[k], -s), s) / s);
  }
  return out;
}
