/**
 * 8-bit RGB → PNG bytes (PNG spec: signature, IHDR, one IDAT, IEND), compressed by node's zlib.
 *
 * Written here rather than through sharp because the image lockstep writes is always the same simple
 * kind: sharp's first encode in a process costs 5–8 ms of libvips start-up (docs/benchmarks.md,
 * "Pipeline families"), a quarter of a tiny model's whole own time, where this costs ≈ 2 ms. Rows are
 * stored unfiltered (filter type 0): no per-pixel JavaScript, so large images cost no more than zlib.
 * Reading images (any format, colour space) stays with sharp.
 */
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BIT_DEPTH = 8;
const COLOUR_TYPE_RGB = 2;

export function encodeRgbPng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || rgb.length !== width * height * 3) {
    throw new RangeError(`PNG: ${rgb.length} bytes are not a ${width}×${height} RGB image (expected ${width * height * 3})`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = BIT_DEPTH;
  header[9] = COLOUR_TYPE_RGB; // [10..12] = 0: deflate, adaptive filtering, no interlace
  const stride = width * 3;
  const scanlines = Buffer.alloc((stride + 1) * height); // zero-filled: every row starts with filter byte 0 (none)
  for (let y = 0; y < height; y++) scanlines.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(scanlines)), chunk('IEND', new Uint8Array(0))]);
}

/** length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

