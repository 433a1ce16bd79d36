/**
 * Tensors across the page boundary as one binary payload (browser-page.mjs
 * has the page's copy of this format): u32 header length (little-endian),
 * header JSON [{name, dtype, dims, offset, byteLength}], then each tensor's
 * bytes 8-byte aligned, offsets counted from the first data byte.
 */
import { UsageError } from '../../errors.ts';
import { type DType, type Tensor, makeTensor } from '../../tensor/tensor.ts';
import { isTensorDtype } from './ort-node.ts';

interface Entry {
  name: string;
  dtype: string;
  dims: number[];
  offset: number;
  byteLength: number;
}

const align = (n: number) => Math.ceil(n / 8) * 8;

export function encodeTensors(tensors: Record<string, Tensor>): Uint8Array {
  let offset = 0;
  const header: Entry[] = Object.entries(tensors).map(([name, t]) => {
    const e = { name, dtype: t.dtype, dims: [...t.dims], offset, byteLength: t.data.byteLength };
    offset = align(offset + t.data.byteLength);
    return e;
  });
  const text = new TextEncoder().encode(JSON.stringify(header));
  const start = align(4 + text.byteLength);
  const out = new Uint8Array(start + offset);
  new DataView(out.buffer).setUint32(0, text.byteLength, true);
  out.set(text, 4);
  for (const e of header) {
    const d = tensors[e.name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, e.byteLength), start + e.offset);
  }
  return out;
}

/** Decodes a payload; tensors of dtypes lockstep does not handle (bool) are skipped when `strict` is false. */
export function decodeTensors(bytes: Uint8Array, strict: boolean): Record<string, Tensor> {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as Entry[];
  const start = align(4 + headerLength);
  const out: Record<string, Tensor> = {};
  for (const e of header) {
    if (!isTensorDtype(e.dtype)) {
      if (strict) throw new UsageError(`${e.name}: output dtype ${e.dtype} is not supported`);
      continue;
    }
    const copy = bytes.slice(start + e.offset, start + e.offset + e.byteLength);
    out[e.name] = makeTensor(e.dtype, e.dims, typedArray(e.dtype, copy.buffer));
  }
  return out;
}

function typedArray(dtype: DType, buffer: ArrayBuffer): Tensor['data'] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float16':
      return new Uint16Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'uint8':
      return new Uint8Array(buffer);
  }
}
