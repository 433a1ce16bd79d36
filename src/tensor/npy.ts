/**
 * `.npy` read/write. The header is parsed and validated here, as numpy reads
 * it, and every problem is reported with the file's name; the data is copied
 * into an aligned buffer. npyjs only writes.
 */
import { readFileSync } from 'node:fs';
import { dump as npyDump, type DType as NpyDType } from 'npyjs';
import { UsageError } from '../errors.ts';
import { type DType, type Tensor, type TensorData, elementCount, makeTensor, shapeString } from './tensor.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { requireReadable } from '../util/safe-paths.ts';

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
  // numpy reads the header with ast.literal_eval: a key given twice takes its last value.
  const descr = lastMatch(header, /'descr'\s*:\s*'([^']+)'/g);
  const fortran = lastMatch(header, /'fortran_order'\s*:\s*(True|False)/g);
  const shapeText = lastMatch(header, /'shape'\s*:\s*\(([^)]*)\)/g);
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

/**
 * Parses an .npy image into an owned, aligned Tensor. The data bytes are copied into a fresh buffer,
 * so data that does not start on a multiple of its item size (numpy accepts such files) reads too.
 */
export function parseNpy(bytes: Uint8Array, name = '<buffer>'): Tensor {
  const header = readNpyHeader(bytes, name);
  const n = elementCount(header.dims);
  const end = header.dataOffset + n * ITEM_SIZE[header.dtype];
  const own = Uint8Array.prototype.slice.call(bytes, header.dataOffset, end).buffer as ArrayBuffer;
  return makeTensor(header.dtype, header.dims, typedView(header.dtype, own, n));
}

function lastMatch(text: string, re: RegExp): string | undefined {
  let last: string | undefined;
  for (const m of text.matchAll(re)) last = m[1];
  return last;
}

/** Refuses FIFOs and devices (a read that blocks or never ends) and files larger than the memory available. */
export function readNpy(path: string): Tensor {
  requireReadable(path);
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

function typedView(dtype: DType, buffer: ArrayBuffer, n: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, n);
    case 'float16':
      return new Uint16Array(buffer, 0, n);
    case 'float64':
      return new Float64Array(buffer, 0, n);
    case 'int32':
      return new Int32Array(buffer, 0, n);
    case 'int64':
      return new BigInt64Array(buffer, 0, n);
    case 'uint8':
      return new Uint8Array(buffer, 0, n);
  }
}
