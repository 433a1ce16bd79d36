/** Input/output signatures of a component, as the model declares them. */

export interface TensorSignature {
  name: string;
  /** ONNX Runtime's type name: float32, float16, int64, int32, … */
  dtype: string;
  /** Numbers for fixed dims, strings for symbolic ones. */
  shape: (number | string)[];
}

export interface ComponentSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

/** A value's metadata as every ONNX Runtime JS build reports it (onnxruntime-node and -web share onnxruntime-common's type). */
export interface ValueMetadata {
  name: string;
  isTensor: boolean;
  type?: unknown;
  shape?: ReadonlyArray<number | string>;
}

export function signatureOf(session: { inputMetadata: readonly ValueMetadata[]; outputMetadata: readonly ValueMetadata[] }): ComponentSignature {
  const convert = (list: readonly ValueMetadata[]): TensorSignature[] =>
    list.map((m) =>
      m.isTensor
        ? { name: m.name, dtype: String(m.type), shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) }
        : { name: m.name, dtype: 'non-tensor', shape: [] },
    );
  return { inputs: convert(session.inputMetadata), outputs: convert(session.outputMetadata) };
}

export function formatSignature(s: TensorSignature): string {
  return `${s.name}: ${s.dtype}[${s.shape.join(',')}]`;
}
