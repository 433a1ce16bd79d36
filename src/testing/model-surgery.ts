/**
 * Test helpers that make candidate model folders with a known defect: a copy
 * of a model folder whose U-Net output is changed by a graph edit.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { loadModel, saveModel } from '../forge/onnx-io.ts';
import { tensorProto } from '../forge/graph.ts';

const { onnx } = onnxProto;
type Graph = onnxProto.onnx.IGraphProto;

export function copyModelFolder(src: string, prefix = 'lockstep-model-'): string {
  const dir = join(mkdtempSync(join(tmpdir(), prefix)), 'model');
  cpSync(src, dir, { recursive: true });
  return dir;
}

/** Renames the U-Net's output and routes it through `edit`, which must produce the old output name. */
function editUnetOutput(modelDir: string, edit: (graph: Graph, raw: string, out: string) => void): void {
  const file = join(modelDir, 'unet', 'model.onnx');
  const model = loadModel(file);
  const graph = model.graph!;
  const out = graph.output![0].name!;
  const raw = `${out}_before_test_edit`;
  for (const node of graph.node!) node.output = node.output!.map((o) => (o === out ? raw : o));
  edit(graph, raw, out);
  saveModel(model, file);
}

/** out_sample + delta, with delta a float32 constant broadcast over the batch ([1,C,h,w]). */
export function addToUnetOutput(modelDir: string, delta: Float32Array, dims: number[]): void {
  editUnetOutput(modelDir, (graph, raw, out) => {
    graph.initializer!.push(tensorProto('test_delta', 'float32', dims, delta));
    graph.node!.push(onnx.NodeProto.create({ name: 'test_add_delta', opType: 'Add', input: [raw, 'test_delta'], output: [out] }));
  });
}

/** out_sample + (timestep == t ? NaN : 0): NaN in every element at exactly that timestep. */
export function nanAtTimestep(modelDir: string, timestep: number): void {
  editUnetOutput(modelDir, (graph, raw, out) => {
    graph.initializer!.push(
      tensorProto('test_t', 'int64', [1], BigInt64Array.from([BigInt(timestep)])),
      tensorProto('test_nan', 'float32', [], Float32Array.from([NaN])),
      tensorProto('test_zero', 'float32', [], Float32Array.from([0])),
    );
    graph.node!.push(
      onnx.NodeProto.create({ name: 'test_eq', opType: 'Equal', input: ['timestep', 'test_t'], output: ['test_is_t'] }),
      onnx.NodeProto.create({ name: 'test_where', opType: 'Where', input: ['test_is_t', 'test_nan', 'test_zero'], output: ['test_bump'] }),
      onnx.NodeProto.create({ name: 'test_add_nan', opType: 'Add', input: [raw, 'test_bump'], output: [out] }),
    );
  });
}
