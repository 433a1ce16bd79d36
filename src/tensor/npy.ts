/**
 * `.npy` read/write on top of npyjs. npyjs parses leniently (it ignores byte
 * order, truncation and Fortran order), so the header is validated here first
 * and every problem is reported with the file's name.
 */
import { readFileSync } from 'node:fs';
import { parse as npyParse, dump as npyDump, type DType as NpyDType } from 'npyjs';
import { UsageError } from '../errors.ts';
import { type DType, type Tensor, type TensorData, elementCount, makeTensor, shapeString } from './tensor.ts';
import { writeFileAtomic } from '../util/fs.ts';

const NPY_TO_DTYPE: Record<string, DType> = {
  f4: 'float32',
  f2: 'float16',
  f8: 'float64',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
};
const DTYPE_TO_NPY: Record<DType, NpyDType> = {
  float32: 'f4',
  float16: 'f2',
  float64: 'f8',
  int32: 'i4',
  int64: 'i8',
  uint8: 'u1',
};
const ITEM_SIZE: Record<DType, number> = { float32: 4, float16: 2, float64: 8, int32: 4, int64: 8, uint8: 1 };

export interface NpyHeader {
  dtype: DType;
  dims: number[];
  dataOffset: number;
}

/**
 * Validates the header of an .npy image; `name` is used in every error.
 * `fileSize` lets a caller pass only the file's first bytes and still check for truncation.
 */
export function readNpyHeader(bytes: Uint8Array, name: string, fileSize = bytes.length): NpyHeader {
  const fail = (why: string) => new UsageError(`${name}: not a valid .npy file: ${why}`);
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (bytes.length < 10 || magic !== '\x93NUMPY') throw fail('missing the \\x93NUMPY magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerOffset = major <= 1 ? 10 : 12;
  const headerLen = major <= 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerOffset + headerLen > bytes.length) throw fail('header is truncated');
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerOffset, headerOffset + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw fail(`malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') {
    throw fail('Fortran-order (column-major) arrays are not supported; save with numpy.ascontiguousarray first');
  }
  const order = descr[0];
  const code = descr.slice(1);
  if (order === '>' && ITEM_SIZE[NPY_TO_DTYPE[code]] !== 1) {
    throw fail(`big-endian dtype '${descr}' is not supported; save with arr.astype(arr.dtype.newbyteorder('<'))`);
  }
  const dtype = NPY_TO_DTYPE[code];
  if (!dtype) {
    throw fail(`unsupported dtype '${descr}' (supported: float32, float16, float64, int32, int64, uint8)`);
  }
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw fail(`bad shape (${shapeText})`);
  const dataOffset = headerOffset + headerLen;
  const needed = elementCount(dims) * ITEM_SIZE[dtype];
  const have = fileSize - dataOffset;
  if (have < needed) {
    throw fail(`truncated: shape ${shapeString(dims)} ${dtype} needs ${needed} data bytes, file has ${have}`);
  }
  return { dtype, dims, dataOffset };
}

/** Parses an .npy image into an owned, aligned Tensor. */
export function parseNpy(bytes: Uint8Array, name = '<buffer>'): Tensor {
  const header = readNpyHeader(bytes, name);
  const n = elementCount(header.dims);
  const end = header.dataOffset + n * ITEM_SIZE[header.dtype];
  // Copy exactly this array's bytes: a Buffer may be a view into a shared pool.
  const own = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + end) as ArrayBuffer;
  const parsed = npyParse(own, { convertFloat16: false });
  const data = copyTyped(header.dtype, parsed.data as TensorData, n);
  return makeTensor(header.dtype, header.dims, data);
}

export function readNpy(path: string): Tensor {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`${path}: cannot read .npy file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parseNpy(bytes, path);
}

export function encodeNpy(t: Tensor): Uint8Array {
  const dims = t.dims.length === 0 ? [] : [...t.dims];
  return new Uint8Array(npyDump(t.data, dims, { dtype: DTYPE_TO_NPY[t.dtype] }));
}

/** Writes atomically (temporary file + rename). */
export function writeNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, encodeNpy(t));
}

function copyTyped(dtype: DType, src: TensorData, n: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(src as Float32Array).subarray(0, n);
    case 'float16':
      return new Uint16Array(src as Uint16Array).subarray(0, n);
    case 'float64':
      return new Float64Array(src as Float64Array).subarray(0, n);
    case 'int32':
      return new Int32Array(src as Int32Array).subarray(0, n);
    case 'int64':
      return new BigInt64Array(src as BigInt64Array).subarray(0, n);
    case 'uint8':
      return new Uint8Array(src as Uint8Array).subarray(0, n);
  }
}
