/**
 * `fp16` / `fp16-keep-vae-fp32`: weights and compute in float16, graph inputs
 * and outputs still float32 (Casts at the boundary), in the manner of
 * onnxconverter-common's `convert_float_to_float16(keep_io_types=True)`:
 *
 * - ops on its default block list (Resize, Range, CumSum, Min, Max, TopK, …)
 *   stay float32, with Casts on their edges;
 * - float values derived from integers (a Cast int→float: the timestep
 *   embedding, masks, shape arithmetic) stay float32 until they meet a float16
 *   activation or a weight op — as diffusers computes the sinusoidal timestep
 *   embedding in float32 even in an fp16 pipeline;
 * - Conv/MatMul/Gemm always run in float16, every other op follows its
 *   activation inputs (float16 if any is);
 * - a constant becomes float16 when every consumer wants float16.
 */
import { UsageError } from '../../errors.ts';
import { float32ToHalfBits } from '../../tensor/tensor.ts';
import type { TensorProto } from '../graph.ts';
import {
  DT, Namer, type GraphProto, type NodeProto, attr, graphOf, inferElemTypes, intAttribute, node, readFloat32, rewireInputs,
  setData, spliceNodes, WEIGHT_OPS,
} from './graph-edit.ts';
import type { ComponentInput, ComponentName, TouchCount, VariantKind } from './types.ts';

/** onnxconverter-common's DEFAULT_OP_BLOCK_LIST, the ops that exist in ONNX proper. */
export const FP16_OP_BLOCK_LIST = new Set(['RandomUniformLike', 'NonMaxSuppression', 'TopK', 'RoiAlign', 'Resize', 'Range', 'CumSum', 'Min', 'Max', 'Upsample']);

const CPU_NOTE =
  'On the CPU execution provider ORT runs most float16 ops (Conv, MatMul, Gemm, InstanceNormalization, Softmax, Resize, …) in float32 with ' +
  'Casts around them, so a CPU fp16 run shows weight and op-boundary rounding only: it understates the error of the same model on a GPU ' +
  '(fp16 accumulation, overflow inside kernels).';

export function fp16Kind(keepVaeFp32: boolean): VariantKind {
  const components: ComponentName[] = keepVaeFp32 ? ['text_encoder', 'text_encoder_2', 'unet'] : ['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder'];
  return {
    kind: keepVaeFp32 ? 'fp16-keep-vae-fp32' : 'fp16',
    parameters: { keepIoTypes: true, opBlockList: [...FP16_OP_BLOCK_LIST], keepVaeFp32 },
    defaultComponents: components,
    notes: [CPU_NOTE],
    apply: applyFp16,
  };
}

type Mode = 'fp16' | 'fp32' | 'none' | 'any';
type Rep = 'fp16' | 'fp32';

function applyFp16({ model, component, file }: ComponentInput): TouchCount {
  const graph = graphOf(model);
  const types = inferElemTypes(graph);
  const isFloat = (name: string) => name !== '' && types.get(name) === DT.FLOAT;
  const constants = constantSources(graph);
  const rep = new Map<string, Rep>();
  for (const i of graph.input ?? []) if (isFloat(i.name ?? '')) rep.set(i.name!, 'fp32');
  const modes = new Map<NodeProto, Mode>();
  for (const n of graph.node ?? []) {
    if (n.opType === 'Constant') continue;
    const mode = nodeMode(n, isFloat, (x) => (constants.has(x) ? undefined : rep.get(x)));
    modes.set(n, mode);
    for (const o of n.output ?? []) if (isFloat(o)) rep.set(o, mode === 'fp16' ? 'fp16' : 'fp32');
  }
  if (![...modes.values()].includes('fp16')) throw new UsageError(`fp16 does not apply to the ${component} (${file}): it has no float32 computation`);
  const wants = slotWants(graph, modes, isFloat);
  const converted = convertConstants(constants, wants, rep);
  const namer = new Namer(graph, 'fp16');
  const outputCasts = castOutputsBack(graph, rep, wants, namer);
  const edgeCasts = insertEdgeCasts(graph, wants, rep, namer);
  graph.valueInfo = []; // dtypes changed; ORT infers them again
  const fp16Nodes = [...modes.values()].filter((m) => m === 'fp16').length;
  return { weights: converted, nodes: fp16Nodes + outputCasts + edgeCasts, details: { fp16Nodes, castsInserted: outputCasts + edgeCasts } };
}

/** How a node computes: float16, float32, no floats at all, or a Cast out of float (accepts either). */
function nodeMode(n: NodeProto, isFloat: (x: string) => boolean, activationRep: (x: string) => Rep | undefined): Mode {
  const floatIns = (n.input ?? []).filter(isFloat);
  const floatOuts = (n.output ?? []).filter(isFloat);
  if (floatIns.length === 0 && floatOuts.length === 0) return 'none';
  if (FP16_OP_BLOCK_LIST.has(n.opType ?? '')) return 'fp32';
  if (n.opType === 'Cast') {
    if (floatOuts.length === 0) return 'any';
    if (floatIns.length === 0) return 'fp32'; // int → float: integer-derived values stay float32
    const fp16 = activationRep(floatIns[0]) !== 'fp32';
    if (fp16) n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== 'to'), intAttribute('to', DT.FLOAT16)];
    return fp16 ? 'fp16' : 'fp32';
  }
  if (WEIGHT_OPS.has(n.opType ?? '')) return 'fp16';
  const activationReps = floatIns.map(activationRep).filter((r): r is Rep => r !== undefined);
  if (floatIns.length > 0 && activationReps.length > 0 && !activationReps.includes('fp16')) return 'fp32';
  if (floatIns.length === 0) return 'fp32'; // ConstantOfShape and the like: produced in float32
  return 'fp16';
}

/** Float initializers and Constant-node values, by tensor name. */
function constantSources(graph: GraphProto): Map<string, TensorProto> {
  const m = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.dataType === DT.FLOAT) m.set(t.name ?? '', t);
  for (const n of graph.node ?? []) {
    const t = n.opType === 'Constant' ? attr(n, 'value')?.t : undefined;
    if (t && t.dataType === DT.FLOAT) m.set(n.output![0], t);
  }
  return m;
}

interface Slot {
  node: NodeProto;
  index: number;
  want: Rep;
}

/** Every float input slot and the precision its node wants there. */
function slotWants(graph: GraphProto, modes: Map<NodeProto, Mode>, isFloat: (x: string) => boolean): Map<string, Slot[]> {
  const wants = new Map<string, Slot[]>();
  for (const n of graph.node ?? []) {
    const mode = modes.get(n);
    if (mode !== 'fp16' && mode !== 'fp32') continue;
    (n.input ?? []).forEach((x, index) => {
      if (!isFloat(x)) return;
      const list = wants.get(x) ?? [];
      list.push({ node: n, index, want: mode });
      wants.set(x, list);
    });
  }
  return wants;
}

/** Converts constants wanted only in float16; returns how many. */
function convertConstants(constants: Map<string, TensorProto>, wants: Map<string, Slot[]>, rep: Map<string, Rep>): number {
  let count = 0;
  for (const [name, t] of constants) {
    const slots = wants.get(name) ?? [];
    const fp16 = slots.length > 0 && slots.every((s) => s.want === 'fp16');
    rep.set(name, fp16 ? 'fp16' : 'fp32');
    if (!fp16) continue;
    setData(t, DT.FLOAT16, float32ToHalfBits(readFloat32(t)));
    count++;
  }
  return count;
}

/** Graph outputs computed in float16 get a Cast back to float32 under their own name. */
function castOutputsBack(graph: GraphProto, rep: Map<string, Rep>, wants: Map<string, Slot[]>, namer: Namer): number {
  const after = new Map<NodeProto, NodeProto[]>();
  for (const out of graph.output ?? []) {
    const name = out.name ?? '';
    if (rep.get(name) !== 'fp16') continue;
    const producer = (graph.node ?? []).find((n) => n.output?.includes(name));
    if (!producer) continue;
    const inner = namer.name(`${name}_fp16`);
    producer.output = producer.output!.map((o) => (o === name ? inner : o));
    rewireInputs(graph, name, inner);
    rep.set(inner, 'fp16');
    wants.set(inner, wants.get(name) ?? []);
    wants.delete(name);
    after.set(producer, [node('Cast', namer.name(`${name}_CastToFp32`), [inner], [name], [intAttribute('to', DT.FLOAT)])]);
  }
  spliceNodes(graph, [], new Map(), after);
  return after.size;
}

/** A Cast on each edge whose precision differs from what the consumer wants (one per tensor and target). */
function insertEdgeCasts(graph: GraphProto, wants: Map<string, Slot[]>, rep: Map<string, Rep>, namer: Namer): number {
  const before = new Map<NodeProto, NodeProto[]>();
  const made = new Map<string, string>();
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((x, index) => {
      const slot = wants.get(x)?.find((s) => s.node === n && s.index === index);
      const have = rep.get(x);
      if (!slot || !have || slot.want === have) return x;
      const key = `${x}\u0000${slot.want}`;
      let cast = made.get(key);
      if (!cast) {
        cast = namer.name(`${x}_to_${slot.want}`);
        made.set(key, cast);
        const to = slot.want === 'fp16' ? DT.FLOAT16 : DT.FLOAT;
        before.set(n, [...(before.get(n) ?? []), node('Cast', namer.name(`Cast_${slot.want}`), [x], [cast], [intAttribute('to', to)])]);
      }
      return cast;
    });
  }
  spliceNodes(graph, [], before);
  return made.size;
}

