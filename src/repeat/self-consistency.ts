/**
 * Self-consistency: one build run N times from scratch (fresh sessions each
 * run). Only the first run's tensors are kept; later runs are compared as
 * each tensor arrives and then dropped, so memory stays at one run.
 */
import { identical } from '../lockstep/compare-step.ts';
import { compareTensors } from '../metrics/index.ts';
import type { BackendOptions } from '../models/backend.ts';
import type { RgbImage } from '../pipeline/image.ts';
import { loadPipelineModel } from '../pipeline/load.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { PipelineRun } from '../pipeline/run.ts';
import { makeTensor, type Tensor } from '../tensor/tensor.ts';

export const REPEAT_SCHEMA = 'lockstep.repeat/1';
export const IMAGE_NAME = 'final/image';

/** How one tensor (by trace name) varied across runs 2…N against run 1. */
export interface TensorSpread {
  name: string;
  identical: boolean;
  /** Runs (1-based) whose tensor was not bitwise run 1's. */
  differingRuns: number[];
  maxAbs: number;
  minCosine: number;
}

export interface RepeatResult {
  schema: typeof REPEAT_SCHEMA;
  model: string;
  backend: BackendOptions;
  settings: PipelineSettings;
  runs: number;
  deterministic: boolean;
  /** Every tensor the pipeline emits, in emission order, then the 8-bit image. */
  tensors: TensorSpread[];
}

export interface RepeatOptions {
  model: string;
  settings: PipelineSettings;
  backend: BackendOptions;
  runs: number;
  onRun?: (done: number, total: number) => void;
}

export async function repeatRuns(opts: RepeatOptions): Promise<RepeatResult> {
  const tracker = new SpreadTracker();
  let settings = opts.settings;
  for (let run = 1; run <= opts.runs; run++) {
    const see = (name: string, t: Tensor) => tracker.see(run, name, t);
    const result = await runOnce(opts, see);
    settings = result.settings;
    see(IMAGE_NAME, imageTensor(result.image));
    opts.onRun?.(run, opts.runs);
  }
  const tensors = tracker.spreads();
  return { schema: REPEAT_SCHEMA, model: opts.model, backend: opts.backend, settings, runs: opts.runs, deterministic: tensors.every((t) => t.identical), tensors };
}

async function runOnce(opts: RepeatOptions, see: (name: string, t: Tensor) => void): Promise<{ image: RgbImage; settings: PipelineSettings }> {
  const model = await loadPipelineModel(opts.model, opts.backend, opts.settings);
  try {
    const run = new PipelineRun(model, opts.settings, { tensor: see });
    const final = await run.runAll();
    return { image: final.image, settings: run.settings };
  } finally {
    await model.onnx.release();
  }
}

/** Keeps run 1's tensors; measures every later run's tensor against it as it arrives. */
export class SpreadTracker {
  private readonly baseline = new Map<string, Tensor>();
  private readonly spread = new Map<string, TensorSpread>();

  see(run: number, name: string, t: Tensor): void {
    if (run === 1) {
      this.baseline.set(name, t);
      if (!this.spread.has(name)) this.spread.set(name, sameSpread(name));
      return;
    }
    const s = this.spread.get(name) ?? sameSpread(name);
    this.spread.set(name, s);
    const ref = this.baseline.get(name);
    if (ref && identical(ref, t)) return;
    s.identical = false;
    if (!s.differingRuns.includes(run)) s.differingRuns.push(run);
    if (!ref) return; // a tensor run 1 never emitted: differing, with nothing to measure against
    const m = compareTensors(ref, t, `${name} (run ${run} vs run 1)`);
    s.maxAbs = Math.max(s.maxAbs, m.maxAbs);
    s.minCosine = Math.min(s.minCosine, m.cosine);
  }

  spreads(): TensorSpread[] {
    return [...this.spread.values()];
  }
}

function sameSpread(name: string): TensorSpread {
  return { name, identical: true, differingRuns: [], maxAbs: 0, minCosine: 1 };
}

function imageTensor(img: RgbImage): Tensor<'uint8'> {
  return makeTensor('uint8', [img.height, img.width, 3], img.data);
}
