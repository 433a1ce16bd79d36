/**
 * Writes a trace as tensors arrive, into `<dir>.partial` beside the target;
 * `commit` swaps it into place. An older trace at the target is never mixed
 * with a new run's files, and a failed or interrupted run leaves a readable
 * partial trace (manifest rewritten on every `flush`) in `<dir>.partial`.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { writeFileAtomic, writePythonJsonAtomic } from '../util/fs.ts';
import { LOCK_FILE, type RunLock, acquireLock } from '../util/run-lock.ts';
import { checkReplaceable } from '../util/safe-paths.ts';
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
  private readonly lock: RunLock;

  /**
   * `flag` names the option the target came from, for messages. An existing target (or `.partial`)
   * that is not a trace lockstep wrote is refused rather than replaced, and a second run writing the
   * same target at once is refused by a lock in the `.partial` folder.
   */
  constructor(target: string, meta: Record<string, unknown>, flag = '--trace') {
    this.target = resolve(target);
    this.dir = `${this.target}.partial`;
    this.meta = meta;
    checkReplaceable(this.target, 'manifest.json', flag);
    checkReplaceable(this.dir, 'manifest.json', flag);
    this.lock = acquireLock(this.dir, flag);
    for (const entry of readdirSync(this.dir)) if (entry !== LOCK_FILE) rmSync(join(this.dir, entry), { recursive: true, force: true });
  }

  /** Moves the finished trace to the target, replacing an older one only now. */
  commit(): void {
    this.flush();
    this.lock.release();
    const old = `${this.target}.old-${process.pid}`;
    if (existsSync(this.target)) renameSync(this.target, old);
    renameSync(this.dir, this.target);
    rmSync(old, { recursive: true, force: true });
  }

  /** Leaves the partial trace as it is and gives up the lock (a failed or interrupted run). */
  abandon(): void {
    this.flush();
    this.lock.release();
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
    writePythonJsonAtomic(join(this.dir, 'manifest.json'), { format: TRACE_FORMAT, ...this.meta, files: sorted });
  }
}
