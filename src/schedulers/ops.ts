/**
 * Elementwise float32 arithmetic. Each scheduler formula writes out torch's
 * op order with `f` (Math.fround) at every op boundary, so the result rounds
 * exactly where the float32 tensors of diffusers round.
 */
import { UsageError } from '../errors.ts';
import { type Tensor, makeTensor, sameDims, shapeString } from '../tensor/tensor.ts';

export const f = Math.fround;

/** Builds a float32 tensor of `like`'s dims from a per-element function. */
export function mapElements(like: Tensor<'float32'>, fn: (i: number) => number): Tensor<'float32'> {
  const out = new Float32Array(like.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(i);
  return makeTensor('float32', like.dims, out);
}

/** model_output and sample must agree in shape, as torch's broadcasting would otherwise hide a bug. */
export function checkSameShape(modelOutput: Tensor<'float32'>, sample: Tensor<'float32'>, className: string): void {
  if (!sameDims(modelOutput.dims, sample.dims)) {
    throw new UsageError(
      `${className}.step: model_output ${shapeString(modelOutput.dims)} and sample ${shapeString(sample.dims)} differ in shape`,
    );
  }
}

/** float32 sqrt: sqrt of a float32 is correctly rounded through float64. */
export function sqrtF(x: number): number {
  return f(Math.sqrt(x));
}
