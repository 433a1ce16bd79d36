/**
 * A small typed builder for ONNX graphs over onnx-proto.
 *
 * Names follow torch.onnx.export's scoped style so that graphs forged here read
 * like exported ones: a node is `/down_blocks.0/resnets.0/norm1/InstanceNormalization`
 * (a repeated op in one scope gets `_1`, `_2`, …), its output is that name plus
 * `_output_0`, and a parameter is the dotted module path (`down_blocks.0.resnets.0.conv1.weight`).
 * Everything is deterministic: the same calls in the same order give the same bytes.
 *
 * Initializer data is kept by reference (a byte view of the caller's typed array),
 * so a large model is held once; `saveModel` can stream it to an external-data file.
 * Inside `withWeightSink`, each initializer goes to the sink as it is created
 * instead (the forge writes it to external data at once, so weights are never all held).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const IR_VERSION = 8;

/** Element types this project uses, with their ONNX enum values. */
export const ONNX_DTYPE = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;
export type DType = keyof typeof ONNX_DTYPE;

/** A dimension: a fixed size or a symbolic name such as `batch_size`. */
export type Dim = number | string;

/** Typed arrays that can back a tensor. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/**
 * An attribute value. Explicit tags, because JavaScript cannot tell the float 1.0
 * from the int 1 and ONNX types attributes strictly.
 */
export type Attr =
  | { i: number }
  | { f: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { s: string }
  | { t: TensorProto };

export const int = (i: number): Attr => ({ i });
export const float = (f: number): Attr => ({ f });
export const ints = (v: readonly number[]): Attr => ({ ints: v });
export const str = (s: string): Attr => ({ s });

/** A byte view of a typed array (no copy; little-endian like every platform Node runs on). */
export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A TensorProto holding `data` by reference in `rawData`. */
export function tensorProto(name: string, dtype: DType, dims: readonly number[], data: TensorData): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`tensor ${name}: dims [${dims.join(', ')}] hold ${count} elements but data has ${data.length}`);
  }
  return { name, dataType: ONNX_DTYPE[dtype], dims: [...dims], rawData: bytesOf(data) };
}

function attributeProto(name: string, value: Attr): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in value) return { name, type: T.INT, i: value.i };
  if ('f' in value) return { name, type: T.FLOAT, f: value.f };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  if ('s' in value) return { name, type: T.STRING, s: new TextEncoder().encode(value.s) };
  return { name, type: T.TENSOR, t: value.t };
}

export function valueInfo(name: string, dtype: DType, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface GraphOptions {
  /** Graph name (torch uses `main_graph`). */
  name?: string;
  opset?: number;
  producerName?: string;
  producerVersion?: string;
}

/** Receives each initializer as it is created and returns what the graph keeps (an external-data stub). */
export type WeightSink = (t: TensorProto) => TensorProto;
let activeSink: WeightSink | undefined;

/** Runs a (synchronous) graph build with every `param` passed through `sink`. */
export function withWeightSink<T>(sink: WeightSink, build: () => T): T {
  const outer = activeSink;
  activeSink = sink;
  try {
    return build();
  } finally {
    activeSink = outer;
  }
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly scopes: string[] = [];
  private readonly usedNodeNames = new Set<string>();
  private readonly usedTensorNames = new Set<string>();

  constructor(private readonly options: GraphOptions = {}) {}

  /** Runs `fn` inside a named module scope (`down_blocks.0`, then `resnets.1`, …). */
  scope<T>(name: string, fn: () => T): T {
    if (name === '') return fn(); // a module used inline, without a name of its own
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** The dotted module path of the current scope plus `local` (`down_blocks.0.resnets.0.conv1.weight`). */
  paramName(local: string): string {
    return [...this.scopes, local].join('.');
  }

  input(name: string, dtype: DType, dims: readonly Dim[]): string {
    this.claimTensorName(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares graph output `name`, renaming the tensor `value` to it. */
  output(name: string, dtype: DType, dims: readonly Dim[], value: string): void {
    if (value !== name) this.rename(value, name);
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** Adds an initializer named by the current scope (`local` is `weight`, `bias`, …). */
  param(local: string, dims: readonly number[], data: Float32Array): string {
    const name = this.paramName(local);
    this.claimTensorName(name);
    const t = tensorProto(name, 'float32', dims, data);
    this.initializers.push(activeSink ? activeSink(t) : t);
    return name;
  }

  /** A constant as a Constant node in the current scope, as torch exports shape constants. */
  constant(dtype: DType, dims: readonly number[], data: TensorData): string {
    return this.node('Constant', [], { value: { t: tensorProto('', dtype, dims, data) } });
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant('int64', dims, BigInt64Array.from(values, (v) => BigInt(v)));
  }

  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant('float32', dims, Float32Array.from(values));
  }

  /** Adds a node with one output and returns the output's name. */
  node(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, Attr>> = {}): string {
    return this.nodeN(opType, inputs, 1, attrs)[0];
  }

  /** Adds a node with `outputCount` outputs (`Split`, …) and returns their names. */
  nodeN(opType: string, inputs: readonly string[], outputCount: number, attrs: Readonly<Record<string, Attr>> = {}): string[] {
    const name = this.uniqueNodeName(opType);
    const outputs = Array.from({ length: outputCount }, (_, k) => `${name}_output_${k}`);
    for (const o of outputs) this.claimTensorName(o);
    this.nodes.push({
      name,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return outputs;
  }

  /** The finished model. Initializer bytes are shared with the caller's arrays, not copied. */
  toModel(): ModelProto {
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: this.options.producerName ?? 'lockstep-forge',
      producerVersion: this.options.producerVersion ?? '',
      opsetImport: [{ domain: '', version: this.options.opset ?? 14 }],
      graph: {
        name: this.options.name ?? 'main_graph',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  private uniqueNodeName(opType: string): string {
    const base = `/${this.scopes.join('/')}${this.scopes.length ? '/' : ''}${opType}`;
    let name = base;
    for (let k = 1; this.usedNodeNames.has(name); k++) name = `${base}_${k}`;
    this.usedNodeNames.add(name);
    return name;
  }

  private claimTensorName(name: string): void {
    if (this.usedTensorNames.has(name)) throw new Error(`graph builder: tensor name ${name} is already used`);
    this.usedTensorNames.add(name);
  }

  private rename(from: string, to: string): void {
    this.claimTensorName(to);
    for (const n of this.nodes) {
      n.input = n.input!.map((x) => (x === from ? to : x));
      n.output = n.output!.map((x) => (x === from ? to : x));
    }
  }
}

/** Serializes a model whose tensors are all inline (use `saveModel` for external data). */
export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** protobufjs gives 64-bit fields as number or Long; dims and offsets here always fit a double. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
