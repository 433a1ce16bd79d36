/**
 * `localize`: runs one component of two builds on the same inputs and finds
 * the first value (in reference graph order) where the candidate diverges.
 *
 * Steps: load both graphs; one profiled run per side sizes every value; match
 * values across the graphs; compare them in memory-bounded batches (scan,
 * bisect, or single-node).
 */
import { UsageError } from '../errors.ts';
import { loadModel } from '../forge/onnx-io.ts';
import { type BackendOptions, DEFAULT_BACKEND } from '../models/backend.ts';
import type { ComponentName } from '../models/component.ts';
import { readModelLayout } from '../models/layout.ts';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Capturer } from './capture.ts';
import { type BatchStats, type EngineContext, type Row, bisect, newStats, scan, single } from './engine.ts';
import { type GraphNode, GraphView } from './graph-view.ts';
import { type InputSource, loadFeeds } from './inputs.ts';
import { type MatchMode, type MatchedValue, comparableValues, matchValues } from './match.ts';
import { sizeValues } from './sizing.ts';
import { DEFAULT_LOCALIZE_THRESHOLDS, type LocalizeThresholds } from './thresholds.ts';

export type LocalizeMode = 'entire' | 'single';
export type Strategy = 'scan' | 'bisect';

export interface LocalizeOptions {
  reference: string;
  candidate: string;
  component: ComponentName;
  inputs: InputSource;
  mode?: LocalizeMode;
  match?: MatchMode;
  strategy?: Strategy;
  /** Bytes of captured tensors allowed alive at once (both sides); default unbounded. */
  maxMemoryBytes?: number;
  thresholds?: LocalizeThresholds;
  backend?: BackendOptions;
  /** The candidate's backend when it differs from the reference's (e.g. onnxruntime-web's wasm vs the CPU provider); default `backend`. */
  candidateBackend?: BackendOptions;
  /** Tests only: builds each side's Capturer (e.g. one whose batch models ORT refuses when they expose a chosen value). */
  makeCapturer?: (side: 'reference' | 'candidate', ...args: ConstructorParameters<typeof Capturer>) => Capturer;
}

export interface LocalizeResult {
  options: Required<Omit<LocalizeOptions, 'inputs' | 'backend' | 'candidateBackend' | 'maxMemoryBytes' | 'makeCapturer'>> & { maxMemoryBytes: number | null };
  referenceModel: string;
  candidateModel: string;
  matches: MatchedValue[];
  /** Comparable values per side, and how many of the reference's were matched. */
  counts: { reference: number; candidate: number; matched: number; byName: number; byTopology: number };
  rows: Row[];
  /** First failing row in graph order (single mode: by own error). */
  first: Row | null;
  /** Nodes from a model input to the first divergent node, in the reference graph. */
  path: Array<{ name: string; opType: string }>;
  /**
   * Values ORT would not expose as extra graph outputs (it rewrote them at load,
   * e.g. around its own inserted precision Casts): found while sizing (then the
   * value is never matched) or in a comparison batch (then that pair is skipped).
   */
  notExposable: NotExposable[];
  /** runs: ORT runs that returned values; rejectedRuns: batch models ORT refused, each split in two and retried. */
  stats: BatchStats & { runs: number; rejectedRuns: number; sizingRuns: number; bisectLevels?: number };
}

export interface NotExposable {
  side: 'reference' | 'candidate';
  value: string;
  node: { name: string; opType: string } | null;
  /** The reference value of the matched pair that could therefore not be compared, if any. */
  matchedTo: string | null;
  reason: string;
}

/** A model folder (diffusers/optimum layout) or a component's .onnx file. */
export function componentModel(path: string, component: ComponentName): string {
  if (existsSync(path) && statSync(path).isFile()) return path;
  const direct = join(path, component, 'model.onnx');
  if (existsSync(direct)) return direct;
  const file = readModelLayout(path).onnx[component];
  if (!file) throw new UsageError(`${path}: the model folder has no ${component}/model.onnx`);
  return file;
}

export async function localize(opts: LocalizeOptions): Promise<LocalizeResult> {
  const backend = opts.backend ?? DEFAULT_BACKEND;
  const candBackend = opts.candidateBackend ?? backend;
  const refFile = componentModel(opts.reference, opts.component);
  const candFile = componentModel(opts.candidate, opts.component);
  const refGraph = new GraphView(loadModel(refFile), `reference ${refFile}`);
  const candGraph = new GraphView(loadModel(candFile), `candidate ${candFile}`);
  const refFeeds = loadFeeds(opts.component, refGraph, opts.inputs);
  const candFeeds = loadFeeds(opts.component, candGraph, opts.inputs);
  const budgetBytes = opts.maxMemoryBytes ?? Number.POSITIVE_INFINITY;
  const make = opts.makeCapturer ?? ((_side, ...args) => new Capturer(...args));
  const refCapturer = make('reference', refGraph.label, refGraph.model, refFeeds, backend);
  const candCapturer = make('candidate', candGraph.label, candGraph.model, candFeeds, candBackend);
  const refSizing = await sizeValues(refGraph, refFeeds, backend, refCapturer, budgetBytes);
  const candSizing = await sizeValues(candGraph, candFeeds, candBackend, candCapturer, budgetBytes);
  const refValues = refSizing.values;
  const candValues = candSizing.values;
  const match = opts.match ?? 'auto';
  const matches = matchValues({ graph: refGraph, values: refValues }, { graph: candGraph, values: candValues }, match);
  if (matches.length === 0) throw new UsageError(`no values of ${refFile} could be matched in ${candFile} (--match ${match}); try --match topology`);
  const ctx: EngineContext = {
    reference: { graph: refGraph, values: refValues, capturer: refCapturer, feeds: refFeeds },
    candidate: { graph: candGraph, values: candValues, capturer: candCapturer, feeds: candFeeds },
    thresholds: opts.thresholds ?? DEFAULT_LOCALIZE_THRESHOLDS,
    budgetBytes,
    backend: candBackend,
    stats: newStats(),
  };
  const mode = opts.mode ?? 'entire';
  const strategy = opts.strategy ?? 'scan';
  if (mode === 'single' && strategy === 'bisect') throw new UsageError('--strategy bisect works with --mode entire only (single mode judges every node on its own)');
  const { rows, first, levels } = await run(ctx, matches, mode, strategy);
  const refComparable = new Set(matches.map((m) => m.reference));
  const notExposable = (['reference', 'candidate'] as const).flatMap((side) =>
    [...ctx[side].capturer.refused].map(([value, reason]): NotExposable => {
      const node = ctx[side].graph.producer.get(value);
      const pair = matches.find((m) => m[side] === value);
      return { side, value, node: node ? { name: node.name, opType: node.opType } : null, matchedTo: pair?.reference ?? null, reason };
    }),
  );
  if (rows.length === 0 && notExposable.some((n) => n.matchedTo)) {
    throw new UsageError(`none of the ${matches.length} matched values could be exposed as graph outputs (ONNX Runtime: ${notExposable[0].reason})`);
  }
  return {
    options: { reference: opts.reference, candidate: opts.candidate, component: opts.component, mode, match, strategy, thresholds: ctx.thresholds, maxMemoryBytes: opts.maxMemoryBytes ?? null },
    referenceModel: refFile,
    candidateModel: candFile,
    matches,
    counts: {
      reference: comparableValues({ graph: refGraph, values: refValues }).length,
      candidate: comparableValues({ graph: candGraph, values: candValues }).length,
      matched: refComparable.size,
      byName: matches.filter((m) => m.by === 'name').length,
      byTopology: matches.filter((m) => m.by === 'topology').length,
    },
    rows,
    first,
    path: first ? pathTo(refGraph, refValues, first.match.refNode.index) : [],
    notExposable,
    stats: { ...ctx.stats, runs: ctx.reference.capturer.runs + ctx.candidate.capturer.runs + ctx.stats.singleRuns, rejectedRuns: ctx.reference.capturer.rejected + ctx.candidate.capturer.rejected, sizingRuns: refSizing.runs + candSizing.runs, bisectLevels: levels },
  };
}

async function run(ctx: EngineContext, matches: MatchedValue[], mode: LocalizeMode, strategy: Strategy): Promise<{ rows: Row[]; first: Row | null; levels?: number }> {
  if (mode === 'single') {
    const rows = await single(ctx, matches);
    return { rows, first: rows.find((r) => r.own?.failed.length) ?? null };
  }
  if (strategy === 'bisect') {
    const b = await bisect(ctx, matches);
    return { rows: b.rows.sort((x, y) => x.position - y.position), first: b.first, levels: b.levels };
  }
  const rows = await scan(ctx, matches, matches.map((_, i) => i));
  return { rows, first: rows.find((r) => r.failed.length) ?? null };
}

/** One path back to a model input: from each node, follow its first computed float input. */
export function pathTo(graph: GraphView, values: Map<string, { dtype: string }>, index: number): Array<{ name: string; opType: string }> {
  const path: Array<{ name: string; opType: string }> = [];
  let node: GraphNode | undefined = graph.nodes[index];
  while (node) {
    path.unshift({ name: node.name, opType: node.opType });
    const live: string | undefined = node.inputs.find((i) => i && !graph.isConstant(i) && graph.producer.has(i) && values.get(i)?.dtype.startsWith('float'));
    node = live ? graph.producer.get(live) : undefined;
  }
  return path;
}
