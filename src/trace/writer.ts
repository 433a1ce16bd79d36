/**
 * Writes a trace folder as tensors arrive. Every file is written atomically;
 * the manifest is rewritten on `flush`, so an interrupted run leaves a
 * readable partial trace.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.ts';
import { TRACE_FORMAT } from './names.ts';

export interface TraceSink {
  put(name: string, tensor: Tensor): void;
}

export class TraceWriter implements TraceSink {
  readonly dir: string;
  private readonly files: Record<string, { dtype: string; shape: number[] }> = {};
  private meta: Record<string, unknown>;

  constructor(dir: string, meta: Record<string, unknown>) {
    this.dir = resolve(dir);
    this.meta = meta;
    mkdirSync(this.dir, { recursive: true });
  }

  put(name: string, tensor: Tensor): void {
    const rel = `${name}.npy`;
    writeFileAtomic(join(this.dir, rel), encodeNpy(tensor));
    this.files[rel] = { dtype: tensor.dtype, shape: [...tensor.dims] };
  }

  putFile(rel: string, bytes: Uint8Array): void {
    writeFileAtomic(join(this.dir, rel), bytes);
  }

  setMeta(extra: Record<string, unknown>): void {
    this.meta = { ...this.meta, ...extra };
  }

  flush(): void {
    const sorted = Object.fromEntries(Object.entries(this.files).sort(([a], [b]) => a.localeCompare(b)));
    writeJsonAtomic(join(this.dir, 'manifest.json'), { format: TRACE_FORMAT, ...this.meta, files: sorted });
  }
}
