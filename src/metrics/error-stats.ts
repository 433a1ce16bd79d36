/**
 * Error statistics beyond compareTensors' sums, as peer tools report them:
 * quantiles of |a − b| (numpy's default linear interpolation), the
 * element-wise allclose check (numpy.isclose / Polygraphy) and the worst
 * channel of an NCHW tensor. One separate pass over the data, so the float32
 * SIMD kernel behind compareTensors keeps its speed; the quantiles use a
 * radix histogram of the values' top bits, then selection within the few
 * bins that hold the wanted ranks (linear time), not a full sort. Definitions and
 * defaults: docs/metrics.md.
 */
import { cosine } from './compare.ts';
import { elementReader } from './read.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Quantiles of |a − b| over the compared (both finite) elements; 0 when none. */
export interface AbsErrQuantiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** Element-wise check |b − a| ≤ atol + rtol·|a| (a = reference), as numpy.isclose(b, a, rtol, atol) in float64. */
export interface AllcloseResult {
  atol: number;
  rtol: number;
  /** Elements failing the check; a NaN on either side always fails, equal infinities pass. */
  mismatched: number;
  /** mismatched / element count (0 for an empty tensor). */
  fraction: number;
}

/** The channel (axis 1 of an NCHW tensor) with the largest relL2, first one on ties. */
export interface WorstChannel {
  index: number;
  cosine: number;
  relL2: number;
}

export interface ErrorStatistics {
  absErrQuantiles: AbsErrQuantiles;
  allclose: AllcloseResult;
  /** Only for 4-D (NCHW) tensors. */
  worstChannel?: WorstChannel;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Polygraphy's defaults for its element-wise check. */
export const DEFAULT_TOLERANCE: Readonly<Tolerance> = { atol: 1e-5, rtol: 1e-5 };

/** The quantile levels reported, in the order of AbsErrQuantiles' keys. */
export const QUANTILE_LEVELS = { p50: 0.5, p90: 0.9, p99: 0.99, p999: 0.999 } as const;

/**
 * Statistics of candidate `b` against reference `a` (same number of
 * elements; compareTensors checks shapes first). Non-finite pairs are left
 * out of the quantiles and the channel metrics, as in compareTensors.
 */
export function errorStatistics(a: Tensor, b: Tensor, tol: Tolerance = DEFAULT_TOLERANCE): ErrorStatistics {
  const da = numbers(a);
  const db = numbers(b);
  const count = da.length;
  const channels = a.dims.length === 4 ? a.dims[1] : 1;
  const inner = a.dims.length === 4 ? a.dims[2] * a.dims[3] : count;
  const outer = channels * inner === 0 ? 0 : count / (channels * inner);
  const diffs = new Float64Array(count);
  // Per channel: Σa², Σb², Σab, Σ(a−b)², finite pairs.
  const sums = new Float64Array(channels * 5);
  const scan = { n: 0, mismatched: 0 };
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++, i += inner) {
      for (let start = i; start < i + inner; start += SCAN_CHUNK) {
        scanRange(da, db, start, Math.min(i + inner, start + SCAN_CHUNK), tol.atol, tol.rtol, diffs, scan, sums, c * 5);
      }
    }
  }
  const { n, mismatched } = scan;
  const stats: ErrorStatistics = {
    absErrQuantiles: quantiles(diffs.subarray(0, n)),
    allclose: { atol: tol.atol, rtol: tol.rtol, mismatched, fraction: count > 0 ? mismatched / count : 0 },
  };
  if (a.dims.length === 4 && channels > 0) stats.worstChannel = worstChannel(sums, channels);
  return stats;
}

/** Elements per scanRange call: V8 optimizes a function called often sooner than one long loop. */
const SCAN_CHUNK = 16384;

/**
 * The hot loop over a[start, end) of one channel: |b − a| of finite pairs
 * into diffs, the element-wise check, and the channel's sums (added at
 * sums[s..s+4]). Locals only, no allocation.
 */
function scanRange(
  da: ArrayLike<number>,
  db: ArrayLike<number>,
  start: number,
  end: number,
  atol: number,
  rtol: number,
  diffs: Float64Array,
  scan: { n: number; mismatched: number },
  sums: Float64Array,
  s: number,
): void {
  let aa = 0, bb = 0, ab = 0, sq = 0;
  let n = scan.n;
  let mismatched = scan.mismatched;
  const first = n;
  for (let i = start; i < end; i++) {
    const x = da[i];
    const y = db[i];
    // x − x is NaN exactly when x is NaN or ±Infinity.
    if (x - x !== 0 || y - y !== 0) {
      if (!(x === y)) mismatched++; // numpy.isclose: equal infinities are close, NaN never
      continue;
    }
    const d = y - x;
    const ad = Math.abs(d);
    if (ad > atol + rtol * Math.abs(x)) mismatched++;
    diffs[n++] = ad;
    aa += x * x;
    bb += y * y;
    ab += x * y;
    sq += d * d;
  }
  sums[s] += aa;
  sums[s + 1] += bb;
  sums[s + 2] += ab;
  sums[s + 3] += sq;
  sums[s + 4] += n - first;
  scan.n = n;
  scan.mismatched = mismatched;
}

/** The data as plain numbers: typed arrays in place, float16/int64 converted once. */
function numbers(t: Tensor): ArrayLike<number> {
  if (t.dtype !== 'float16' && t.dtype !== 'int64') return t.data as ArrayLike<number>;
  const read = elementReader(t);
  return Float64Array.from({ length: t.data.length }, (_, i) => read(i));
}

function worstChannel(sums: Float64Array, channels: number): WorstChannel {
  let worst: WorstChannel | null = null;
  for (let c = 0; c < channels; c++) {
    const [aa, bb, ab, sq, m] = sums.subarray(c * 5, c * 5 + 5);
    const rel = sq === 0 ? 0 : aa === 0 ? Infinity : Math.sqrt(sq / aa);
    const cos = sq === 0 && m > 0 ? 1 : cosine(ab, aa, bb);
    const key = Number.isNaN(rel) ? Infinity : rel;
    if (!worst || key > (Number.isNaN(worst.relL2) ? Infinity : worst.relL2)) worst = { index: c, cosine: cos, relL2: rel };
  }
  return worst!;
}

/** numpy.quantile(v, q) with the default method 'linear', for each reported level (v: finite, ≥ 0; it is reordered). */
export function quantiles(v: Float64Array): AbsErrQuantiles {
  const out = { p50: 0, p90: 0, p99: 0, p999: 0 };
  const n = v.length;
  if (n === 0) return out;
  const keys = Object.keys(QUANTILE_LEVELS) as Array<keyof AbsErrQuantiles>;
  // numpy: virtual index (n − 1)·q, its floor and the next rank (the last value at or past the end).
  const plan = keys.map((key) => {
    const virtual = (n - 1) * QUANTILE_LEVELS[key];
    const lo = virtual >= n - 1 ? n - 1 : Math.floor(virtual);
    return { key, virtual, lo, hi: Math.min(lo + 1, n - 1) };
  });
  const ranks = [...new Set(plan.flatMap((p) => [p.lo, p.hi]))];
  const value = orderStatistics(v, ranks);
  for (const p of plan) {
    out[p.key] = p.virtual >= n - 1 ? value.get(n - 1)! : lerp(value.get(p.lo)!, value.get(p.hi)!, p.virtual - p.lo);
  }
  return out;
}

/** Bins of the radix pass: the top 16 bits of a non-negative float64 (11 exponent bits, 4 mantissa bits) order like the values. */
const RADIX_BINS = 1 << 15;

/**
 * The values of the given ranks in sorted order, in two passes instead of a
 * sort: a histogram of the top bits finds the bin holding each rank, then
 * only those bins' values are gathered and selected (quickselect) by their
 * rank within the bin.
 */
function orderStatistics(v: Float64Array, ranks: readonly number[]): Map<number, number> {
  const hi = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
  const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the high word (little-endian: 1)
  const counts = new Uint32Array(RADIX_BINS);
  for (let i = 0; i < v.length; i++) counts[hi[2 * i + HI] >>> 16]++;
  // Bin and rank within it for each wanted rank.
  const where = new Map<number, { bin: number; inner: number }>();
  const sorted = [...ranks].sort((a, b) => a - b);
  let bin = 0;
  let before = 0;
  for (const k of sorted) {
    while (before + counts[bin] <= k) before += counts[bin++];
    where.set(k, { bin, inner: k - before });
  }
  const slot = new Int32Array(RADIX_BINS).fill(-1);
  const bins = [...new Set([...where.values()].map((w) => w.bin))];
  const buffers = bins.map((b, i) => ((slot[b] = i), new Float64Array(counts[b])));
  const fill = new Uint32Array(bins.length);
  for (let i = 0; i < v.length; i++) {
    const s = slot[hi[2 * i + HI] >>> 16];
    if (s >= 0) buffers[s][fill[s]++] = v[i];
  }
  const out = new Map<number, number>();
  for (const [k, w] of where) {
    const buf = buffers[slot[w.bin]];
    select(buf, w.inner, 0, buf.length - 1);
    out.set(k, buf[w.inner]);
  }
  return out;
}

/** numpy's _lerp: a + (b − a)·t, computed from b's side when t ≥ 0.5 (exact at t = 1). */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Quickselect (Hoare partition, median-of-three pivot): afterwards v[k] is
 * the value a full sort would put there, v[lo, k) ≤ v[k] ≤ v(k, hi].
 */
function select(v: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three into v[mid].
    if (v[mid] < v[lo]) swap(v, mid, lo);
    if (v[hi] < v[lo]) swap(v, hi, lo);
    if (v[hi] < v[mid]) swap(v, hi, mid);
    const pivot = v[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        swap(v, i, j);
        i++;
        j--;
      }
    }
    // Now v[lo, j] ≤ pivot ≤ v[i, hi], and v(j, i) == pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(v: Float64Array, i: number, j: number): void {
  const t = v[i];
  v[i] = v[j];
  v[j] = t;
}
