/**
 * Tensor comparison metrics: one pass over both tensors (a chunk holding a NaN
 * or ±Infinity is read a second time), float64 accumulation. float32 pairs go
 * through a WebAssembly SIMD kernel (kernel/), everything else through the
 * scalar loops below. Definitions, edge cases and the NaN/Inf policy are in
 * docs/metrics.md.
 */
import { UsageError } from '../errors.ts';
import { float32Kernel, KERNEL_CHUNK, type Float32Kernel } from './kernel/kernel.ts';
import { elementReader, type ElementReader } from './read.ts';
import { sameDims, shapeString, type Tensor } from '../tensor/tensor.ts';

/** Metrics of candidate `b` against reference `a`. */
export interface MetricSet {
  /** a·b / (‖a‖‖b‖), clamped to [-1, 1]; both all-zero → 1, exactly one all-zero → 0. */
  cosine: number;
  /** mean |a − b| over the compared elements. */
  l1: number;
  /** max |a − b| over the compared elements (0 when none). */
  maxAbs: number;
  /** Multi-index (C order) of the first element where maxAbs occurs; [] when nothing was compared (or the tensor is a scalar). */
  maxAbsIndex: number[];
  /** sqrt(mean (a − b)²) over the compared elements. */
  rmse: number;
  /** ‖a − b‖ / ‖a‖; 0 when a = b, +Infinity when ‖a‖ = 0 but b ≠ 0. */
  relL2: number;
  /** dB = 10·log10(Σa² / Σ(a−b)²); +Infinity when identical, −Infinity when a = 0 but b ≠ 0. */
  sqnr: number;
  /** NaN elements per side; always reported, whatever else is. */
  nanCount: { reference: number; candidate: number };
  /** ±Infinity elements per side; always reported. */
  infCount: { reference: number; candidate: number };
  /**
   * Positions where either side is non-finite and the two are not the same infinity (NaN on
   * either side, +Infinity against −Infinity or a finite value). Optional only for reports written
   * before it existed.
   */
  nonFiniteMismatches?: number;
  /** Elements per tensor (the product of the dims), compared or not. */
  count: number;
}

/** Running sums of one comparison; filled by the loops below. */
interface Sums {
  n: number; // elements compared (both sides finite)
  aa: number;
  bb: number;
  ab: number;
  absDiff: number;
  sqDiff: number;
  max: number;
  maxAt: number;
  nanA: number;
  nanB: number;
  mismatches: number;
  infA: number;
  infB: number;
}

/**
 * Compares candidate `b` with reference `a` element by element.
 *
 * Elements where either side is NaN or ±Infinity are counted (nanCount,
 * infCount) and left out of every other metric, so one NaN does not hide how
 * the rest of the tensor compares; a gate must check the counts itself.
 * float32/float64/int32/uint8 data is read in place; float16 and int64 are
 * converted per element, never copied.
 *
 * `kernel` 'scalar' skips the SIMD kernel (tests and benchmarks compare the two).
 *
 * @throws UsageError when the shapes differ (naming `name` and both shapes).
 */
export function compareTensors(a: Tensor, b: Tensor, name = 'tensor', kernel: 'simd' | 'scalar' = 'simd'): MetricSet {
  if (!sameDims(a.dims, b.dims)) {
    throw new UsageError(
      `${name}: shape mismatch, reference ${shapeString(a.dims)} vs candidate ${shapeString(b.dims)}`,
    );
  }
  const s = emptySums();
  const simd = kernel === 'simd' && a.dtype === 'float32' && b.dtype === 'float32' ? float32Kernel() : null;
  if (simd) accumulateFloat32(simd, a.data as Float32Array, b.data as Float32Array, s);
  else accumulateScalar(a, b, s);
  return finish(s, a.dims, a.data.length);
}

function accumulateScalar(a: Tensor, b: Tensor, s: Sums): void {
  if (a.dtype === 'int64' && b.dtype === 'int64') return accumulateInt64(a.data as BigInt64Array, b.data as BigInt64Array, s);
  const da = plainNumbers(a);
  const db = plainNumbers(b);
  if (da && db) accumulatePlain(da, db, s);
  else accumulateRead(elementReader(a), elementReader(b), 0, a.data.length, s);
}

function emptySums(): Sums {
  return { n: 0, aa: 0, bb: 0, ab: 0, absDiff: 0, sqDiff: 0, max: -1, maxAt: -1, nanA: 0, nanB: 0, mismatches: 0, infA: 0, infB: 0 };
}

/** The data as an indexable array of numbers, or undefined when it needs per-element conversion. */
function plainNumbers(t: Tensor): ArrayLike<number> | undefined {
  return t.dtype === 'float16' || t.dtype === 'int64' ? undefined : (t.data as ArrayLike<number>);
}

/** Elements per kernel call: small enough that V8 optimizes the kernel after a few calls, large enough to amortize them. */
const CHUNK = 16384;
/** Kernel output slots. */
const AA = 0, BB = 1, AB = 2, ABS = 3, SQ = 4, MAX = 5, AT = 6;
/** Shared scratch for the kernel (comparisons are synchronous); a typed array keeps the kernel free of object shapes. */
const chunkSums = new Float64Array(7);

/**
 * Plain typed arrays: a kernel per chunk with no finiteness test per element.
 * A NaN or ±Infinity anywhere in a chunk makes its Σa² + Σb² non-finite; only
 * such chunks are redone element by element with the checks.
 */
function accumulatePlain(a: ArrayLike<number>, b: ArrayLike<number>, s: Sums): void {
  const len = a.length;
  for (let start = 0; start < len; start += CHUNK) {
    const end = Math.min(len, start + CHUNK);
    sumChunk(a, b, start, end, chunkSums);
    if (Number.isFinite(chunkSums[AA] + chunkSums[BB])) mergeChunk(s, chunkSums, end - start);
    else accumulateRead(plainReader(a), plainReader(b), start, end, s);
  }
}

/**
 * The hot loop: locals only, no allocation; results into `out`. The maximum's
 * first index is tracked in the loop (a rarely taken branch), so no second
 * pass over the data is needed to find it.
 */
function sumChunk(a: ArrayLike<number>, b: ArrayLike<number>, start: number, end: number, out: Float64Array): void {
  let aa = 0, bb = 0, ab = 0, absDiff = 0, sqDiff = 0, max = 0, at = start;
  for (let i = start; i < end; i++) {
    const x = a[i];
    const y = b[i];
    const d = x - y;
    const ad = Math.abs(d);
    aa += x * x;
    bb += y * y;
    ab += x * y;
    absDiff += ad;
    sqDiff += d * d;
    if (ad > max) {
      max = ad;
      at = i;
    }
  }
  out[AA] = aa;
  out[BB] = bb;
  out[AB] = ab;
  out[ABS] = absDiff;
  out[SQ] = sqDiff;
  out[MAX] = max;
  out[AT] = at;
}

/** Adds a finite chunk's sums, and its maximum when strictly larger (chunks come in order: the first one reaching it is kept). */
function mergeChunk(s: Sums, c: Float64Array, n: number): void {
  s.n += n;
  s.aa += c[AA];
  s.bb += c[BB];
  s.ab += c[AB];
  s.absDiff += c[ABS];
  s.sqDiff += c[SQ];
  if (c[MAX] <= s.max) return;
  s.max = c[MAX];
  s.maxAt = c[AT];
}

/**
 * float32 pairs through the SIMD kernel, chunk by chunk, with the same
 * non-finite fallback as accumulatePlain. The kernel leaves Σab out: when
 * the chunk's Σa² and Σb² are within a factor BALANCE of each other, Σab =
 * (Σa² + Σb² − Σ(a−b)²)/2 carries an error of the same order as summing it
 * (relative to √(Σa²Σb²), which is what the cosine divides by); otherwise
 * the cached chunk is read once more for Σab.
 */
function accumulateFloat32(k: Float32Kernel, a: Float32Array, b: Float32Array, s: Sums): void {
  const len = a.length;
  for (let start = 0; start < len; start += KERNEL_CHUNK) {
    const end = Math.min(len, start + KERNEL_CHUNK);
    k.load(a, b, start, end);
    const c = k.sums();
    if (!Number.isFinite(c.aa + c.bb)) {
      accumulateRead(plainReader(a), plainReader(b), start, end, s);
      continue;
    }
    const balanced = c.aa <= BALANCE * c.bb && c.bb <= BALANCE * c.aa;
    s.n += end - start;
    s.aa += c.aa;
    s.bb += c.bb;
    s.ab += balanced ? (c.aa + c.bb - c.sqDiff) / 2 : k.dot();
    s.absDiff += c.absDiff;
    s.sqDiff += c.sqDiff;
    if (c.max > s.max) {
      s.max = c.max;
      s.maxAt = start + k.firstAbs(c.max);
    }
  }
}

/** See accumulateFloat32: the widest Σa²/Σb² ratio for which Σab comes from the identity. */
const BALANCE = 4;

function plainReader(d: ArrayLike<number>): ElementReader {
  return (i) => d[i];
}

/** Element by element through readers, skipping (and counting) non-finite pairs: float16, int64, non-finite chunks. */
function accumulateRead(ra: ElementReader, rb: ElementReader, start: number, end: number, s: Sums): void {
  for (let i = start; i < end; i++) {
    const x = ra(i);
    const y = rb(i);
    // x − x is NaN exactly when x is NaN or ±Infinity.
    if (x - x !== 0 || y - y !== 0) {
      countNonFinite(x, y, s);
      continue;
    }
    const d = x - y;
    const ad = Math.abs(d);
    s.n++;
    s.aa += x * x;
    s.bb += y * y;
    s.ab += x * y;
    s.absDiff += ad;
    s.sqDiff += d * d;
    if (ad > s.max) {
      s.max = ad;
      s.maxAt = i;
    }
  }
}

/**
 * int64 pairs: each difference is taken exactly in BigInt (float64 cannot tell 2^53 from 2^53 + 1),
 * then converted; the sums of squares are float64 like everywhere else.
 */
function accumulateInt64(a: BigInt64Array, b: BigInt64Array, s: Sums): void {
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    const d = Number(a[i] - b[i]);
    const ad = Math.abs(d);
    s.n++;
    s.aa += x * x;
    s.bb += y * y;
    s.ab += x * y;
    s.absDiff += ad;
    s.sqDiff += d * d;
    if (ad > s.max) {
      s.max = ad;
      s.maxAt = i;
    }
  }
}

function countNonFinite(x: number, y: number, s: Sums): void {
  if (x !== y || Number.isNaN(x)) s.mismatches++;
  if (Number.isNaN(x)) s.nanA++;
  else if (!Number.isFinite(x)) s.infA++;
  if (Number.isNaN(y)) s.nanB++;
  else if (!Number.isFinite(y)) s.infB++;
}

function finish(s: Sums, dims: readonly number[], count: number): MetricSet {
  // Nothing finite on both sides to compare, and not all matching infinities: nothing matched.
  if (s.n === 0 && s.mismatches > 0) return nothingMatched(s, count);
  return {
    // Equal compared elements are exactly cosine 1; the ratio of rounded sums can land 1 ulp below.
    cosine: s.sqDiff === 0 && s.n > 0 ? 1 : cosine(s.ab, s.aa, s.bb),
    l1: s.n > 0 ? s.absDiff / s.n : 0,
    maxAbs: s.n > 0 ? s.max : 0,
    maxAbsIndex: s.n > 0 ? unravel(s.maxAt, dims) : [],
    rmse: s.n > 0 ? Math.sqrt(s.sqDiff / s.n) : 0,
    relL2: s.sqDiff === 0 ? 0 : s.aa === 0 ? Infinity : Math.sqrt(s.sqDiff / s.aa),
    sqnr: s.sqDiff === 0 ? Infinity : 10 * Math.log10(s.aa / s.sqDiff),
    nanCount: { reference: s.nanA, candidate: s.nanB },
    infCount: { reference: s.infA, candidate: s.infB },
    nonFiniteMismatches: s.mismatches,
    count,
  };
}

/** Every metric at its worst: an all-NaN tensor must never read as cosine 1. */
function nothingMatched(s: Sums, count: number): MetricSet {
  return {
    cosine: 0,
    l1: Infinity,
    maxAbs: Infinity,
    maxAbsIndex: [],
    rmse: Infinity,
    relL2: Infinity,
    sqnr: -Infinity,
    nanCount: { reference: s.nanA, candidate: s.nanB },
    infCount: { reference: s.infA, candidate: s.infB },
    nonFiniteMismatches: s.mismatches,
    count,
  };
}

/** a·b / (‖a‖‖b‖) from the sums, clamped; both all-zero → 1, one all-zero → 0. */
export function cosine(ab: number, aa: number, bb: number): number {
  if (aa === 0 && bb === 0) return 1;
  if (aa === 0 || bb === 0) return 0;
  const c = ab / (Math.sqrt(aa) * Math.sqrt(bb)); // two roots: aa·bb can overflow for float64 data
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

/** Flat C-order index → multi-index. */
export function unravel(flat: number, dims: readonly number[]): number[] {
  const index = new Array<number>(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    index[k] = flat % dims[k];
    flat = Math.floor(flat / dims[k]);
  }
  return index;
}
