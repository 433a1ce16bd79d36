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
}

export interface LocalizeResult {
  options: Required<Omit<LocalizeOptions, 'inputs' | 'backend' | 'maxMemoryBytes'>> & { maxMemoryBytes: number | null };
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
  stats: BatchStats & { runs: number; sizingRuns: number; bisectLevels?: number };
}

/** A model folder (diffusers/optimum layout) or a component's .onnx file. */
export function componentModel(path: string, component: ComponentName): string {
  if (existsSync(path) && statSync(path).isFile()) return path;
  const direct = join(path, component, 'model.onnx');
  if (existsSync(direct)) return direct;
  return readModelLayout(path).onnx[component];
}

export async function localize(opts: LocalizeOptions): Promise<LocalizeResult> {
  const backend = opts.backend ?? DEFAULT_BACKEND;
  const refFile = componentModel(opts.reference, opts.component);
  const candFile = componentModel(opts.candidate, opts.component);
  const refGraph = new GraphView(loadModel(refFile), `reference ${refFile}`);
  const candGraph = new GraphView(loadModel(candFile), `candidate ${candFile}`);
  const refFeeds = loadFeeds(opts.component, refGraph, opts.inputs);
  const candFeeds = loadFeeds(opts.component, candGraph, opts.inputs);
  const budgetBytes = opts.maxMemoryBytes ?? Number.POSITIVE_INFINITY;
  const refCapturer = new Capturer(refGraph.label, refGraph.model, refFeeds, backend);
  const candCapturer = new Capturer(candGraph.label, candGraph.model, candFeeds, backend);
  const refSizing = await sizeValues(refGraph, refFeeds, backend, refCapturer, budgetBytes);
  const candSizing = await sizeValues(candGraph, candFeeds, backend, candCapturer, budgetBytes);
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
    backend,
    stats: newStats(),
  };
  const mode = opts.mode ?? 'entire';
  const strategy = opts.strategy ?? 'scan';
  if (mode === 'single' && strategy === 'bisect') throw new UsageError('--strategy bisect works with --mode entire only (single mode judges every node on its own)');
  const { rows, first, levels } = await run(ctx, matches, mode, strategy);
  const refComparable = new Set(matches.map((m) => m.reference));
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
    stats: { ...ctx.stats, runs: ctx.reference.capturer.runs + ctx.candidate.capturer.runs + ctx.stats.singleRuns, sizingRuns: refSizing.runs + candSizing.runs, bisectLevels: levels },
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
