/**
 * Writes a trace as tensors arrive, into `<dir>.partial` beside the target;
 * `commit` swaps it into place. An older trace at the target is never mixed
 * with a new run's files, and a failed or interrupted run leaves a readable
 * partial trace (manifest rewritten on every `flush`) in `<dir>.partial`.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.ts';
import { TRACE_FORMAT } from './names.ts';

export interface TraceSink {
  put(name: string, tensor: Tensor): void;
}

export class TraceWriter implements TraceSink {
  /** Where the trace ends up once committed. */
  readonly target: string;
  /** Where it is written until then. */
  readonly dir: string;
  private readonly files: Record<string, { dtype: string; shape: number[] }> = {};
  private meta: Record<string, unknown>;

  constructor(target: string, meta: Record<string, unknown>) {
    this.target = resolve(target);
    this.dir = `${this.target}.partial`;
    this.meta = meta;
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  /** Moves the finished trace to the target, replacing an older one only now. */
  commit(): void {
    this.flush();
    const old = `${this.target}.old-${process.pid}`;
    if (existsSync(this.target)) renameSync(this.target, old);
    renameSync(this.dir, this.target);
    rmSync(old, { recursive: true, force: true });
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
