/**
 * The WebAssembly SIMD kernel for float32 comparisons (sums.wat), loaded once
 * per process. JavaScript arrays cannot be read from WebAssembly, so each
 * chunk of both tensors is copied into the kernel's memory first; the copy
 * lands in cache and the kernel reads it from there.
 */
import { readFileSync } from 'node:fs';

/** Elements per chunk: both chunks (2 × 256 KiB) stay in a 1 MiB L2 cache. */
export const KERNEL_CHUNK = 65536;
const A_OFFSET = 65536; // byte offsets in the kernel memory, as laid out in sums.wat
const B_OFFSET = A_OFFSET + 4 * KERNEL_CHUNK;

/** The sums of one chunk, as the kernel computes them (float64). */
export interface ChunkSums {
  aa: number;
  bb: number;
  absDiff: number;
  sqDiff: number;
  /** max |a − b| over the chunk. */
  max: number;
}

interface Exports {
  memory: WebAssembly.Memory;
  sums(pa: number, pb: number, n: number): void;
  dot(pa: number, pb: number, n: number): number;
  firstAbs(pa: number, pb: number, n: number, target: number): number;
}

/** One chunk of a float32 comparison, loaded into the kernel memory. */
export class Float32Kernel {
  private readonly f32: Float32Array;
  private readonly results: Float64Array;
  private n = 0;

  constructor(private readonly wasm: Exports) {
    // The memory has a fixed size (sums.wat), so these views are never detached.
    this.f32 = new Float32Array(wasm.memory.buffer);
    this.results = new Float64Array(wasm.memory.buffer, 0, 5);
  }

  /** Copies a[start, end) and b[start, end) (at most KERNEL_CHUNK elements) into the kernel memory. */
  load(a: Float32Array, b: Float32Array, start: number, end: number): void {
    this.f32.set(a.subarray(start, end), A_OFFSET / 4);
    this.f32.set(b.subarray(start, end), B_OFFSET / 4);
    this.n = end - start;
  }

  /** Σa², Σb², Σ|a−b|, Σ(a−b)² and max|a−b| of the loaded chunk; no NaN/Inf checks (a non-finite Σa² + Σb² reveals them). */
  sums(): ChunkSums {
    this.wasm.sums(A_OFFSET, B_OFFSET, this.n);
    const r = this.results;
    return { aa: r[0], bb: r[1], absDiff: r[2], sqDiff: r[3], max: r[4] };
  }

  /** Σab of the loaded chunk. */
  dot(): number {
    return this.wasm.dot(A_OFFSET, B_OFFSET, this.n);
  }

  /** Index in the loaded chunk of the first element with |a − b| = target, or −1. */
  firstAbs(target: number): number {
    return this.wasm.firstAbs(A_OFFSET, B_OFFSET, this.n, target);
  }
}

let loaded: Float32Kernel | null | undefined;

/**
 * The kernel, or null where this runtime cannot compile it (no WebAssembly
 * SIMD); callers then use the scalar JavaScript path, which computes the same
 * metrics.
 */
export function float32Kernel(): Float32Kernel | null {
  if (loaded === undefined) loaded = instantiate();
  return loaded;
}

function instantiate(): Float32Kernel | null {
  const bytes = readFileSync(new URL('./sums.wasm', import.meta.url));
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch {
    return null; // CompileError: the runtime lacks SIMD
  }
  return new Float32Kernel(new WebAssembly.Instance(module).exports as unknown as Exports);
}
