/**
 * The one tensor type used everywhere: a dtype, dims and a typed array in C
 * order. The data layouts are the ones onnxruntime-node uses, so a Tensor
 * crosses into and out of ORT without conversion (float16 travels as raw
 * IEEE half bits in a Uint16Array; Node 20 has no Float16Array).
 */
export type DType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'uint8';

export interface DataOf {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
}

export type TensorData = DataOf[DType];

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: DataOf[D];
}

export const DTYPES: readonly DType[] = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint8'];

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

export function makeTensor<D extends DType>(dtype: D, dims: readonly number[], data: DataOf[D]): Tensor<D> {
  const expected = elementCount(dims);
  if (data.length !== expected) {
    throw new Error(`tensor of dims [${dims.join(',')}] needs ${expected} elements, got ${data.length}`);
  }
  return { dtype, dims: [...dims], data };
}

export function float32(dims: readonly number[], data?: Float32Array | number[]): Tensor<'float32'> {
  const arr = data instanceof Float32Array ? data : data ? Float32Array.from(data) : new Float32Array(elementCount(dims));
  return makeTensor('float32', dims, arr);
}

export function int64(dims: readonly number[], values: readonly (number | bigint)[]): Tensor<'int64'> {
  return makeTensor('int64', dims, BigInt64Array.from(values, (v) => BigInt(v)));
}

export function shapeString(dims: readonly number[]): string {
  return `[${dims.join(',')}]`;
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A float64 view of any tensor's values (int64 converted through Number). */
export function toFloat64(t: Tensor): Float64Array {
  if (t.dtype === 'float16') {
    const out = new Float64Array(t.data.length);
    const bits = t.data as Uint16Array;
    for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]);
    return out;
  }
  if (t.dtype === 'int64') return Float64Array.from(t.data as BigInt64Array, (v) => Number(v));
  return Float64Array.from(t.data as ArrayLike<number>);
}

/** Converts any numeric tensor to float32 (a copy unless it already is). */
export function toFloat32(t: Tensor): Tensor<'float32'> {
  if (t.dtype === 'float32') return t as Tensor<'float32'>;
  if (t.dtype === 'float16') return makeTensor('float32', t.dims, halfBitsToFloat32(t.data as Uint16Array));
  if (t.dtype === 'int64') return makeTensor('float32', t.dims, Float32Array.from(t.data as BigInt64Array, (v) => Number(v)));
  return makeTensor('float32', t.dims, Float32Array.from(t.data as ArrayLike<number>));
}

/** Selects index i along the first axis (a copy). */
export function slice0<D extends DType>(t: Tensor<D>, i: number): Tensor<D> {
  const inner = elementCount(t.dims.slice(1));
  const data = t.data.slice(i * inner, (i + 1) * inner) as DataOf[D];
  return makeTensor(t.dtype, [1, ...t.dims.slice(1)], data);
}

/** Concatenates float32 tensors along the first axis. */
export function concat0(parts: readonly Tensor<'float32'>[]): Tensor<'float32'> {
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  const batch = parts.reduce((n, p) => n + p.dims[0], 0);
  return makeTensor('float32', [batch, ...parts[0].dims.slice(1)], data);
}

// ---- IEEE 754 half precision ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float → half bits, round to nearest even, overflow to Inf (as a GPU cast does). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]);
  return out;
}

export function float32ToHalfBits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
  return out;
}
