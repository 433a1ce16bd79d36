/**
 * Captures internal values of one model, a batch at a time: each batch is a
 * fresh in-memory copy of the model with those values added as graph outputs,
 * run once and released, so only one batch's tensors are alive at a time.
 */
import type { BackendOptions } from '../models/backend.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelProto } from './graph-view.ts';
import { openSession, runSession, withOutputs } from './session.ts';

export class Capturer {
  /** ORT runs made by this capturer (sizing runs excluded). */
  runs = 0;

  constructor(
    readonly label: string,
    private readonly model: ModelProto,
    private readonly feeds: Record<string, Tensor>,
    private readonly backend: BackendOptions,
  ) {}

  async capture(names: readonly string[]): Promise<Map<string, Tensor>> {
    if (names.length === 0) return new Map();
    const session = await openSession(withOutputs(this.model, names), this.backend, this.label);
    try {
      this.runs++;
      return await runSession(session, this.feeds, names, this.label);
    } finally {
      await session.release();
    }
  }
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
