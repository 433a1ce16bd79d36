/** The classifier-free-guidance delta, compared on its own (see DESIGN.md, "guidance delta"). */
import { UsageError } from '../errors.ts';
import { elementReader } from './read.ts';
import { makeTensor, sameDims, shapeString, type Tensor } from '../tensor/tensor.ts';

/**
 * `text − uncond` elementwise as float32, rounded once per element as torch's
 * float32 subtraction does. Guidance multiplies this small difference by the
 * guidance scale, so a build can match both predictions and still lose it.
 * @throws UsageError when the shapes differ.
 */
export function guidanceDelta(uncond: Tensor, text: Tensor): Tensor<'float32'> {
  if (!sameDims(uncond.dims, text.dims)) {
    throw new UsageError(
      `guidance delta: noise_pred_uncond ${shapeString(uncond.dims)} and noise_pred_text ${shapeString(text.dims)} differ in shape`,
    );
  }
  const u = elementReader(uncond);
  const t = elementReader(text);
  const out = new Float32Array(uncond.data.length);
  for (let i = 0; i < out.length; i++) out[i] = t(i) - u(i);
  return makeTensor('float32', uncond.dims, out);
}
