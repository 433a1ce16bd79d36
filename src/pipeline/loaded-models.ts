/**
 * Loaded builds shared within one process. Opening an SD model's three ORT
 * sessions costs seconds and a copy of its weights, so two users of the same
 * build (the same model folder, by real path, under the same backend settings)
 * share one set of sessions: the reference and the candidate of a self-check,
 * and the cases of a suite, which keeps its builds loaded while it runs.
 *
 * Ownership is counted: every `acquire` returns a lease, and the sessions are
 * released when the last lease is released and nobody `keep`s the pool.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendOptions } from '../models/backend.ts';
import type { ComponentName } from '../models/component.ts';
import { type LoadedModel, loadPipelineModel } from './load.ts';
import type { PipelineSettings } from './settings.ts';

export interface ModelLease {
  readonly model: LoadedModel;
  /** This lease opened the sessions (false: they were already loaded, their creation time counted elsewhere). */
  readonly opened: boolean;
  /**
   * This user will not call `component` again: its session is freed once every
   * user of the build is done with it and nobody keeps the pool (a suite's next
   * case would open it again). Calling it later still works: it reopens.
   */
  doneWith(component: ComponentName): Promise<void>;
  /** Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  loading: Promise<LoadedModel>;
  refs: number;
  /** Per live lease, the components it is done with. */
  leases: Set<Set<ComponentName>>;
}

/** Two builds are the same when the same files run under equal settings. */
export function buildKey(dir: string, backend: BackendOptions): string {
  let path = resolve(dir);
  try {
    path = realpathSync(path);
  } catch {
    // Missing: loading will say so, naming the path.
  }
  const settings = Object.fromEntries(Object.entries(backend).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify([path, settings]);
}

export class ModelPool {
  private readonly entries = new Map<string, Entry>();
  private keepers = 0;

  /**
   * The build, loaded now or shared with its other users. With `settings`, a
   * load that cannot fit in the available memory is refused first (the
   * estimate is for one run; a loaded build needs no new room).
   */
  async acquire(dir: string, backend: BackendOptions, settings?: PipelineSettings): Promise<ModelLease> {
    const key = buildKey(dir, backend);
    let entry = this.entries.get(key);
    const opened = !entry;
    if (!entry) {
      entry = { loading: loadPipelineModel(dir, backend, settings), refs: 0, leases: new Set() };
      this.entries.set(key, entry);
    }
    entry.refs++;
    let model: LoadedModel;
    try {
      model = await entry.loading;
    } catch (err) {
      entry.refs--;
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
    // A build first loaded for text-to-image has its VAE encoder deferred: an image-to-image user opens it
    // now, so that its signature is in this run's report like the other components'.
    if (settings?.image) await model.onnx.openDeferred('vae_encoder');
    let released = false;
    const done = new Set<ComponentName>();
    const lease = entry;
    lease.leases.add(done);
    return {
      model,
      opened,
      doneWith: async (component) => {
        done.add(component);
        if (this.keepers > 0 || [...lease.leases].some((d) => !d.has(component))) return;
        await model.onnx.releaseComponent(component);
      },
      release: async () => {
        if (released) return;
        released = true;
        lease.refs--;
        lease.leases.delete(done);
        await this.releaseUnused();
      },
    };
  }

  /** Keeps builds loaded after their last lease ends, until the returned function is called (a suite's cases share them). */
  keep(): () => Promise<void> {
    this.keepers++;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.keepers--;
      await this.releaseUnused();
    };
  }

  /** How many builds are loaded (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  private async releaseUnused(): Promise<void> {
    if (this.keepers > 0) return;
    for (const [key, entry] of [...this.entries]) {
      if (entry.refs > 0) continue;
      this.entries.delete(key);
      await (await entry.loading).onnx.release();
    }
  }
}

/** The process's pool: `compare`, suites and `golden check` load builds through it. */
export const loadedModels = new ModelPool();
