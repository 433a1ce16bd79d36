/**
 * The inputs a component is run on: from a recorded trace (as the pipeline fed
 * the component at one step) or from a folder of .npy files named after the
 * model's inputs. Feeds are cast to the dtypes the model declares.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { UsageError } from '../errors.ts';
import { castTo, type ComponentName } from '../models/component.ts';
import { readNpy } from '../tensor/npy.ts';
import { type DType, type Tensor, makeTensor } from '../tensor/tensor.ts';
import { TEXT, FINAL } from '../trace/names.ts';
import { TraceReader } from '../trace/reader.ts';
import type { GraphView } from './graph-view.ts';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const DTYPE_OF: Partial<Record<number, DType>> = {
  [T.FLOAT]: 'float32',
  [T.FLOAT16]: 'float16',
  [T.DOUBLE]: 'float64',
  [T.INT32]: 'int32',
  [T.INT64]: 'int64',
  [T.UINT8]: 'uint8',
};

export interface InputSource {
  trace?: string;
  step?: number;
  inputsDir?: string;
  /** VAE latents are divided by this before decoding (the pipeline's job). */
  vaeScalingFactor?: number;
}

export function loadFeeds(component: ComponentName, graph: GraphView, src: InputSource): Record<string, Tensor> {
  const raw = src.inputsDir ? fromDir(graph, src.inputsDir) : fromTrace(component, src);
  const feeds: Record<string, Tensor> = {};
  for (const name of graph.graphInputs) {
    const t = raw[name];
    if (!t) throw new UsageError(`${graph.label}: no value for model input '${name}' (inputs given: ${Object.keys(raw).join(', ') || 'none'})`);
    feeds[name] = castTo(t, declaredDtype(graph, name));
  }
  return feeds;
}

function declaredDtype(graph: GraphView, name: string): DType {
  const elem = graph.model.graph?.input?.find((i) => i.name === name)?.type?.tensorType?.elemType ?? T.FLOAT;
  const d = DTYPE_OF[elem];
  if (!d) throw new UsageError(`${graph.label}: model input '${name}' has ONNX element type ${elem}, which localize cannot feed`);
  return d;
}

function fromDir(graph: GraphView, dir: string): Record<string, Tensor> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--inputs ${dir}: folder not found`);
  const out: Record<string, Tensor> = {};
  for (const name of graph.graphInputs) {
    const file = join(dir, `${name.replaceAll('/', '_')}.npy`);
    if (!existsSync(file)) throw new UsageError(`--inputs ${dir}: missing ${name}.npy for model input '${name}'`);
    out[name] = readNpy(file);
  }
  return out;
}

function fromTrace(component: ComponentName, src: InputSource): Record<string, Tensor> {
  if (!src.trace) throw new UsageError('localize needs --trace TRACE (with --step for the U-Net) or --inputs DIR');
  const trace = new TraceReader(src.trace);
  if (component === 'text_encoder') return { input_ids: trace.require(TEXT.condIds) };
  if (component === 'vae_decoder') return { latent_sample: scaleLatents(trace.require(FINAL.latents), src.vaeScalingFactor ?? 0.18215) };
  const step = src.step ?? 0;
  if (step < 0 || step >= trace.stepCount) throw new UsageError(`--step ${step}: the trace has steps 0..${trace.stepCount - 1}`);
  const sample = trace.step(step, 'latent_model_input');
  const timestep = trace.step(step, 'timestep');
  if (!sample || !timestep) throw new UsageError(`${trace.dir}: step ${step} lacks latent_model_input or timestep`);
  return { sample, timestep: timestep.dims.length === 0 ? makeTensor(timestep.dtype, [1], timestep.data) : timestep, encoder_hidden_states: trace.require(TEXT.promptEmbeds) };
}

function scaleLatents(t: Tensor, factor: number): Tensor {
  const f32 = castTo(t, 'float32').data as Float32Array;
  return makeTensor('float32', t.dims, f32.map((x) => x / factor));
}
