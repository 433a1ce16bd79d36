/**
 * Activation ranges for static int8 from recorded traces: a temporary copy of
 * the component exposes the chosen tensors as extra graph outputs, and runs
 * on the inputs each trace recorded — the U-Net on every step's
 * latent_model_input/timestep with the prompt embeddings, the text encoder on
 * the token ids, the VAE decoder on the final latents / scaling factor.
 */
import { UNET_EXTRA_INPUTS } from '../../models/sd-model.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { DEFAULT_BACKEND } from '../../models/backend.ts';
import { OnnxComponent } from '../../models/component.ts';
import { readModelLayout } from '../../models/layout.ts';
import { type Tensor, makeTensor, shapeString, toFloat64 } from '../../tensor/tensor.ts';
import { TraceReader } from '../../trace/reader.ts';
import type { ModelProto } from '../graph.ts';
import { saveModel } from '../onnx-io.ts';
import { DT, graphOf, looseValueInfo } from './graph-edit.ts';
import type { ComponentName } from './types.ts';

export interface Range {
  min: number;
  max: number;
}

type Feed = { feeds: Record<string, Tensor>; source: string };

/** min/max of each tensor in `names` over every calibration input of every trace. */
export async function calibrateRanges(model: ModelProto, component: ComponentName, modelDir: string, traces: readonly string[], names: readonly string[]): Promise<Map<string, Range>> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-calibrate-'));
  const ranges = new Map<string, Range>();
  try {
    const file = join(dir, 'model.onnx');
    saveModel(withOutputs(model, names), file, { externalData: encodeSizeOver2GB(model) });
    const session = await OnnxComponent.open(component, file, { ...DEFAULT_BACKEND, graphOptimizationLevel: 'disabled' });
    try {
      for (const trace of traces) {
        for (const { feeds, source } of calibrationFeeds(component, trace, modelDir, session)) {
          const out = await runFeed(session, feeds, source);
          for (const name of names) widen(ranges, name, out[name]);
        }
      }
    } finally {
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return ranges;
}

function encodeSizeOver2GB(model: ModelProto): boolean {
  const bytes = (graphOf(model).initializer ?? []).reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
  return bytes > 1.5 * 2 ** 30;
}

/** A copy of the model that also outputs `names` (float32). */
function withOutputs(model: ModelProto, names: readonly string[]): ModelProto {
  const graph = graphOf(model);
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  const extra = names.filter((n) => !existing.has(n)).map((n) => looseValueInfo(n, DT.FLOAT));
  const copy = { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } } as ModelProto;
  return copy;
}

async function runFeed(session: OnnxComponent, feeds: Record<string, Tensor>, source: string): Promise<Record<string, Tensor>> {
  try {
    return await session.run(feeds);
  } catch (err) {
    throw new UsageError(`${source}: the calibration input does not fit the ${session.name} (${(err as Error).message})`, { cause: err });
  }
}

function widen(ranges: Map<string, Range>, name: string, t: Tensor | undefined): void {
  if (!t) return;
  const r = ranges.get(name) ?? { min: Infinity, max: -Infinity };
  for (const v of toFloat64(t)) {
    if (!Number.isFinite(v)) continue;
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
  ranges.set(name, r);
}

function calibrationFeeds(component: ComponentName, traceDir: string, modelDir: string, session: OnnxComponent): Feed[] {
  const trace = new TraceReader(traceDir);
  const file = (name: string) => join(trace.dir, `${name}.npy`);
  if (component === 'text_encoder') {
    const ids = ['text/cond_ids', 'text/uncond_ids'].filter((n) => trace.has(n));
    if (ids.length === 0) throw new UsageError(`${traceDir}: the trace has no text/cond_ids.npy to calibrate the text encoder`);
    return ids.map((n) => ({ feeds: { input_ids: trace.require(n) }, source: file(n) }));
  }
  if (component === 'text_encoder_2') {
    const ids = ['text/cond_ids_2', 'text/uncond_ids_2'].filter((n) => trace.has(n));
    if (ids.length === 0) throw new UsageError(`${traceDir}: the trace has no text/cond_ids_2.npy to calibrate text_encoder_2 (an SDXL trace records it)`);
    return ids.map((n) => ({ feeds: { input_ids: trace.require(n) }, source: file(n) }));
  }
  if (component === 'vae_encoder') {
    if (!trace.has('image/input')) throw new UsageError(`${traceDir}: the trace has no image/input.npy to calibrate the VAE encoder (an image-to-image trace records it)`);
    return [{ feeds: { sample: trace.require('image/input') }, source: file('image/input') }];
  }
  if (component === 'vae_decoder') {
    const latents = trace.require('final/latents');
    expectDims(session, 'latent_sample', latents, file('final/latents'));
    const scale = readModelLayout(modelDir).vaeScalingFactor;
    return [{ feeds: { latent_sample: makeTensor('float32', latents.dims, Float32Array.from(toFloat64(latents), (v) => v / scale)) }, source: file('final/latents') }];
  }
  const embeds = trace.require('text/prompt_embeds');
  expectDims(session, 'encoder_hidden_states', embeds, file('text/prompt_embeds'));
  const feeds: Feed[] = [];
  // Extra U-Net inputs (LCM's timestep_cond, SDXL's text_embeds/time_ids) are constant over a run.
  const extras: Record<string, Tensor> = {};
  for (const name of UNET_EXTRA_INPUTS) if (session.input(name) && trace.has(`cond/${name}`)) extras[name] = trace.require(`cond/${name}`);
  for (let i = 0; i < trace.stepCount; i++) {
    const sample = trace.step(i, 'latent_model_input');
    const timestep = trace.step(i, 'timestep');
    if (!sample || !timestep) continue;
    expectDims(session, 'sample', sample, file(`steps/${String(i).padStart(3, '0')}/latent_model_input`));
    feeds.push({ feeds: { sample, timestep: timestepAsDeclared(session, timestep), encoder_hidden_states: embeds, ...extras }, source: `${traceDir} step ${i}` });
  }
  if (feeds.length === 0) throw new UsageError(`${traceDir}: the trace records no steps/*/latent_model_input.npy and timestep.npy to calibrate the U-Net`);
  return feeds;
}

/** diffusers records the timestep as a scalar; optimum's U-Net declares [1] (the dtype is cast on feeding). */
function timestepAsDeclared(session: OnnxComponent, t: Tensor): Tensor {
  const rank = session.input('timestep')?.shape.length ?? t.dims.length;
  if (t.data.length !== 1 || rank === t.dims.length) return t;
  return { ...t, dims: rank === 0 ? [] : Array.from({ length: rank }, () => 1) };
}

/** Fixed dims the model declares must match the trace tensor's (e.g. embedding width 768 vs 32). */
function expectDims(session: OnnxComponent, input: string, t: Tensor, file: string): void {
  const sig = session.input(input);
  if (!sig) throw new UsageError(`${session.file}: the ${session.name} has no input '${input}' to calibrate from ${file}`);
  const bad = sig.shape.length !== t.dims.length || sig.shape.some((d, k) => typeof d === 'number' && d !== t.dims[k]);
  if (bad) {
    throw new UsageError(`${file}: shape ${shapeString(t.dims)} does not fit the ${session.name} input '${input}' [${sig.shape.join(',')}] (a trace of a different model?)`);
  }
}
