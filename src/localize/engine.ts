/**
 * The comparison loops: a full scan over every matched value, a bisection over
 * cut points, and the single-node pass. All of them capture values through
 * memory-bounded batches and judge each matched value against the thresholds.
 */
import { compareTensors, type MetricSet } from '../metrics/index.ts';
import { castTo } from '../models/component.ts';
import type { BackendOptions } from '../models/backend.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { type BatchItem, type Capturer, batchValues, planBatches } from './capture.ts';
import type { GraphView } from './graph-view.ts';
import type { MatchedValue } from './match.ts';
import { openSession, runSession, type ValueInfo } from './session.ts';
import { extractModel, extractNode } from './single.ts';
import { failures, type LocalizeThresholds } from './thresholds.ts';

export interface Side {
  graph: GraphView;
  values: Map<string, ValueInfo>;
  capturer: Capturer;
  feeds: Record<string, Tensor>;
}

export interface EngineContext {
  reference: Side;
  candidate: Side;
  thresholds: LocalizeThresholds;
  budgetBytes: number;
  backend: BackendOptions;
  stats: BatchStats;
}

export interface BatchStats {
  batches: number;
  /** Largest total bytes of captured tensors alive at once (one batch, both sides). */
  maxHeldBytes: number;
  /** Planned bytes of the largest batch (from the sizing run). */
  maxPlannedBytes: number;
  /** One-node models run in single mode. */
  singleRuns: number;
}

export interface Row {
  /** Position of the value in the matched list (reference graph order). */
  position: number;
  match: MatchedValue;
  metrics: MetricSet;
  failed: string[];
  /** Single mode: the node fed the reference's inputs. */
  own?: { metrics: MetricSet; failed: string[] };
}

export const newStats = (): BatchStats => ({ batches: 0, maxHeldBytes: 0, maxPlannedBytes: 0, singleRuns: 0 });

function bytesOf(ctx: EngineContext) {
  return (side: 'reference' | 'candidate', v: string) => ctx[side].values.get(v)?.bytes ?? 0;
}

/** Captures each batch on both sides and hands the tensors to `visit`; tensors are dropped after it returns. */
async function forEachBatch<T>(
  ctx: EngineContext,
  items: BatchItem<T>[],
  visit: (batch: BatchItem<T>[], ref: Map<string, Tensor>, cand: Map<string, Tensor>) => Promise<boolean>,
): Promise<void> {
  for (const batch of planBatches(items, bytesOf(ctx), ctx.budgetBytes)) {
    const names = batchValues(batch);
    const planned = names.reference.reduce((s, v) => s + bytesOf(ctx)('reference', v), 0) + names.candidate.reduce((s, v) => s + bytesOf(ctx)('candidate', v), 0);
    const ref = await ctx.reference.capturer.capture(names.reference);
    const cand = await ctx.candidate.capturer.capture(names.candidate);
    const held = [...ref.values(), ...cand.values()].reduce((s, t) => s + t.data.byteLength, 0);
    ctx.stats.batches++;
    ctx.stats.maxHeldBytes = Math.max(ctx.stats.maxHeldBytes, held);
    ctx.stats.maxPlannedBytes = Math.max(ctx.stats.maxPlannedBytes, planned);
    if (!(await visit(batch, ref, cand))) return;
  }
}

function judge(ctx: EngineContext, position: number, m: MatchedValue, ref: Tensor, cand: Tensor): Row {
  const metrics = compareTensors(ref, cand, m.reference);
  return { position, match: m, metrics, failed: failures(metrics, ctx.thresholds) };
}

/** Compares every listed value (positions into `matches`); stops after the first failure when `stopAtFirst`. */
export async function scan(ctx: EngineContext, matches: MatchedValue[], positions: number[], stopAtFirst = false): Promise<Row[]> {
  const rows: Row[] = [];
  const items = positions.map((p) => ({ item: p, reference: [matches[p].reference], candidate: [matches[p].candidate] }));
  await forEachBatch(ctx, items, async (batch, ref, cand) => {
    for (const { item: p } of batch) {
      const m = matches[p];
      const [r, c] = [ref.get(m.reference), cand.get(m.candidate)];
      if (!r || !c) continue; // ORT refused to expose one side (Capturer.refused; reported as not exposable)
      const row = judge(ctx, p, m, r, c);
      rows.push(row);
      if (stopAtFirst && row.failed.length) return false;
    }
    return true;
  });
  return rows;
}

export interface BisectResult {
  first: Row | null;
  rows: Row[];
  levels: number;
}

/**
 * Finds the first failing value with O(log N) capture rounds: compare √n cut
 * points of the current segment, keep the segment ending at the first failing
 * cut, repeat until the segment has √N values or fewer, then scan it. Assumes
 * a divergence persists downstream (see docs/localize.md).
 */
export async function bisect(ctx: EngineContext, matches: MatchedValue[]): Promise<BisectResult> {
  const rows: Row[] = [];
  const leaf = Math.max(2, Math.ceil(Math.sqrt(matches.length)));
  let lo = 0;
  let hi = matches.length; // the first failure, if any, is in [lo, hi)
  let knownFailing = false; // whether hi - 1 is known to fail
  let levels = 0;
  while (hi - lo > leaf) {
    levels++;
    const n = hi - lo;
    const k = Math.min(leaf, Math.ceil(Math.sqrt(n)));
    const cuts = [...new Set(Array.from({ length: k }, (_, j) => lo + Math.ceil(((j + 1) * n) / k) - 1))];
    const cutRows = await scan(ctx, matches, knownFailing ? cuts.slice(0, -1) : cuts, true);
    rows.push(...cutRows);
    const failing = cutRows.find((r) => r.failed.length);
    if (!failing && !knownFailing) return { first: null, rows, levels };
    const failAt = failing ? failing.position : hi - 1;
    lo = Math.max(lo, ...cutRows.filter((r) => !r.failed.length && r.position < failAt).map((r) => r.position + 1));
    hi = failAt + 1;
    knownFailing = true;
  }
  levels++;
  const positions = Array.from({ length: hi - lo }, (_, i) => lo + i);
  const segment = await scan(ctx, matches, positions, true);
  rows.push(...segment);
  return { first: segment.find((r) => r.failed.length) ?? null, rows, levels };
}

/** Single mode: every matched candidate node re-run on the reference's values of its inputs. */
export async function single(ctx: EngineContext, matches: MatchedValue[]): Promise<Row[]> {
  const candToRef = new Map(matches.map((m) => [m.candidate, m.reference]));
  const items = matches.map((m, p) => {
    const ex = extractNode(ctx.candidate.graph, m.candNode);
    const fedFromRef = ex.boundary.filter((b) => candToRef.has(b));
    const fedFromCand = ex.boundary.filter((b) => !candToRef.has(b) && !(b in ctx.candidate.feeds));
    return { item: { p, ex }, reference: [m.reference, ...fedFromRef.map((b) => candToRef.get(b)!)], candidate: [m.candidate, ...fedFromCand] };
  });
  const rows: Row[] = [];
  await forEachBatch(ctx, items, async (batch, ref, cand) => {
    for (const { item } of batch) {
      const m = matches[item.p];
      const [r, c] = [ref.get(m.reference), cand.get(m.candidate)];
      if (!r || !c) continue; // not exposable on one side
      const row = judge(ctx, item.p, m, r, c);
      const feeds: Record<string, Tensor> = {};
      for (const b of item.ex.boundary) {
        const fromRef = candToRef.has(b) ? ref.get(candToRef.get(b)!) : undefined;
        const value = fromRef ?? cand.get(b) ?? ctx.candidate.feeds[b];
        if (!value) break;
        const info = ctx.candidate.values.get(b);
        feeds[b] = info && info.dtype !== value.dtype && fromRef ? castTo(value, info.dtype as Tensor['dtype']) : value;
      }
      if (Object.keys(feeds).length < item.ex.boundary.length) {
        rows.push(row); // an input of the node was not exposable: no own error (the report shows –)
        continue;
      }
      const session = await openSession(extractModel(ctx.candidate.graph, item.ex, ctx.candidate.values), ctx.backend, `${ctx.candidate.graph.label}: node ${m.candNode.name}`);
      try {
        ctx.stats.singleRuns++;
        const out = await runSession(session, feeds, [m.candidate], `${ctx.candidate.graph.label}: node ${m.candNode.name}`);
        const metrics = compareTensors(ref.get(m.reference)!, out.get(m.candidate)!, m.reference);
        row.own = { metrics, failed: failures(metrics, ctx.thresholds) };
      } finally {
        await session.release();
      }
      rows.push(row);
    }
    return true;
  });
  return rows;
}
