/**
 * Test-only graph edits that make known candidates from a reference model:
 * one layer's epsilon changed, attention Softmax computed in float16, and a
 * QDQ-quantized, fully renamed copy (for the topology matcher).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { saveModel } from '../../forge/onnx-io.ts';
import type { ModelProto } from '../../forge/graph.ts';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export const TINY_SD = '/work/shared/reference/tiny-sd';

export function clone(model: ModelProto): ModelProto {
  return onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
}

/** Writes `model` as `<tmp>/<component>/model.onnx` and returns `<tmp>`. */
export function writeCandidate(model: ModelProto, component: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-localize-'));
  mkdirSync(join(dir, component));
  saveModel(model, join(dir, component, 'model.onnx'));
  return dir;
}

/** Sets epsilon of the named node (an InstanceNormalization in the decomposed GroupNorm). */
export function changeEpsilon(model: ModelProto, nodeName: string, epsilon: number): ModelProto {
  const m = clone(model);
  const node = m.graph!.node!.find((n) => n.name === nodeName);
  if (!node) throw new Error(`no node ${nodeName}`);
  node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== 'epsilon'), { name: 'epsilon', type: A.FLOAT, f: epsilon }];
  return m;
}

/** Wraps every Softmax matching `pick` in Cast(float16) → Softmax → Cast(float32). */
export function softmaxFp16(model: ModelProto, pick: (name: string) => boolean = () => true): ModelProto {
  const m = clone(model);
  const out: onnxProto.onnx.INodeProto[] = [];
  for (const n of m.graph!.node!) {
    if (n.opType !== 'Softmax' || !pick(n.name ?? '')) {
      out.push(n);
      continue;
    }
    const [x] = n.input!;
    const [y] = n.output!;
    out.push({ name: `${n.name}/to_fp16`, opType: 'Cast', input: [x], output: [`${x}_fp16`], attribute: [{ name: 'to', type: A.INT, i: T.FLOAT16 }] });
    out.push({ ...n, input: [`${x}_fp16`], output: [`${y}_fp16`] });
    out.push({ name: `${n.name}/to_fp32`, opType: 'Cast', input: [`${y}_fp16`], output: [y], attribute: [{ name: 'to', type: A.INT, i: T.FLOAT }] });
  }
  m.graph!.node = out;
  return m;
}

/**
 * Puts QuantizeLinear→DequantizeLinear (uint8, per-tensor) in front of the
 * float input 0 of every MatMul and renames every node and computed value,
 * so only the topology matcher can pair values.
 */
export function qdqRenamed(model: ModelProto, insertQdq = true): ModelProto {
  const m = clone(model);
  const g = m.graph!;
  const keep = new Set([...(g.input ?? []), ...(g.output ?? [])].map((v) => v.name));
  const rename = (v: string) => (v && !keep.has(v) && !g.initializer!.some((t) => t.name === v) ? `q::${v}` : v);
  const out: onnxProto.onnx.INodeProto[] = [];
  let k = 0;
  for (const n of g.node!) {
    const node = { ...n, name: `q::${n.name}`, input: n.input!.map(rename), output: n.output!.map(rename) };
    if (insertQdq && n.opType === 'MatMul') {
      const x = node.input[0];
      const s = `qdq${k}_scale`;
      const z = `qdq${k}_zp`;
      g.initializer!.push({ name: s, dataType: T.FLOAT, dims: [], floatData: [0.02] }, { name: z, dataType: T.UINT8, dims: [], rawData: new Uint8Array([128]) });
      out.push({ name: `qdq${k}/Q`, opType: 'QuantizeLinear', input: [x, s, z], output: [`qdq${k}_q`] });
      out.push({ name: `qdq${k}/DQ`, opType: 'DequantizeLinear', input: [`qdq${k}_q`, s, z], output: [`qdq${k}_dq`] });
      node.input = [`qdq${k}_dq`, ...node.input.slice(1)];
      k++;
    }
    out.push(node);
  }
  g.node = out;
  return m;
}
