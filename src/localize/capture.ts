/**
 * Captures internal values of one model, a batch at a time: each batch is a
 * fresh in-memory copy of the model with those values added as graph outputs,
 * run once and released, so only one batch's tensors are alive at a time.
 */
import type { BackendOptions } from '../models/backend.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelProto } from './graph-view.ts';
import { openSession, runSession, withOutputs } from './session.ts';

/** A value ONNX Runtime would not expose as an extra graph output, and what it said. */
export interface Refusal {
  value: string;
  reason: string;
}

export class Capturer {
  /** ORT runs that returned values (sizing runs included; callers subtract what they spent). */
  runs = 0;
  /** Batch models ORT refused to load or run; each one was split in two and retried. */
  rejected = 0;
  /** Values ORT refuses to expose, in the order they were found; never requested again. */
  readonly refused = new Map<string, string>();

  constructor(
    readonly label: string,
    protected readonly model: ModelProto,
    private readonly feeds: Record<string, Tensor>,
    private readonly backend: BackendOptions,
  ) {}

  /**
   * The requested values, except those ORT refuses to expose. A batch model
   * that fails to load or run is bisected: each half is retried on its own, so
   * a batch with k refused values among n costs about 2·k·log2(n) extra
   * attempts, and only the values that fail alone are dropped (and recorded in
   * `refused` with ORT's message). Peak memory stays at most the batch's.
   */
  async capture(names: readonly string[]): Promise<Map<string, Tensor>> {
    const wanted = [...new Set(names)].filter((n) => !this.refused.has(n));
    const out = new Map<string, Tensor>();
    await this.captureSplitting(wanted, out);
    return out;
  }

  private async captureSplitting(names: string[], out: Map<string, Tensor>): Promise<void> {
    if (names.length === 0) return;
    let got: Map<string, Tensor>;
    try {
      got = await this.captureOnce(names);
    } catch (err) {
      this.rejected++;
      if (names.length === 1) {
        this.refused.set(names[0], firstLine(err));
        return;
      }
      const mid = Math.ceil(names.length / 2);
      await this.captureSplitting(names.slice(0, mid), out);
      await this.captureSplitting(names.slice(mid), out);
      return;
    }
    for (const [k, v] of got) out.set(k, v);
  }

  /** The batch model: the model with `names` appended to its graph outputs (tests override it to make ORT refuse a value). */
  protected batchModel(names: readonly string[]): Uint8Array {
    return withOutputs(this.model, names);
  }

  private async captureOnce(names: readonly string[]): Promise<Map<string, Tensor>> {
    const session = await openSession(this.batchModel(names), this.backend, this.label);
    try {
      const result = await runSession(session, this.feeds, names, this.label);
      this.runs++;
      return result;
    } finally {
      await session.release();
    }
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

export interface BatchItem<T> {
  item: T;
  /** Values this item needs from each side. */
  reference: string[];
  candidate: string[];
}

/**
 * Splits items, in order, into batches whose distinct values fit in `budgetBytes`
 * (reference and candidate sides together). An item too large on its own gets
 * a batch of its own; the caller reports it.
 */
export function planBatches<T>(items: BatchItem<T>[], bytesOf: (side: 'reference' | 'candidate', v: string) => number, budgetBytes: number): BatchItem<T>[][] {
  const batches: BatchItem<T>[][] = [];
  let current: BatchItem<T>[] = [];
  let held = { reference: new Set<string>(), candidate: new Set<string>() };
  let bytes = 0;
  for (const it of items) {
    const extra = addedBytes(it, held, bytesOf);
    if (current.length > 0 && bytes + extra > budgetBytes) {
      batches.push(current);
      current = [];
      held = { reference: new Set(), candidate: new Set() };
      bytes = 0;
    }
    bytes += addedBytes(it, held, bytesOf);
    it.reference.forEach((v) => held.reference.add(v));
    it.candidate.forEach((v) => held.candidate.add(v));
    current.push(it);
  }
  if (current.length) batches.push(current);
  return batches;
}

function addedBytes<T>(it: BatchItem<T>, held: { reference: Set<string>; candidate: Set<string> }, bytesOf: (side: 'reference' | 'candidate', v: string) => number): number {
  const sum = (side: 'reference' | 'candidate') => [...new Set(it[side])].filter((v) => !held[side].has(v)).reduce((s, v) => s + bytesOf(side, v), 0);
  return sum('reference') + sum('candidate');
}

/** Distinct values a batch needs per side. */
export function batchValues<T>(batch: BatchItem<T>[]): { reference: string[]; candidate: string[] } {
  return {
    reference: [...new Set(batch.flatMap((b) => b.reference))],
    candidate: [...new Set(batch.flatMap((b) => b.candidate))],
  };
}
