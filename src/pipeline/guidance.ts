/** Classifier-free guidance, with torch's float32 rounding at each op. */
import { type Tensor, makeTensor, slice0 } from '../tensor/tensor.ts';

export interface GuidedPrediction {
  noisePredUncond: Tensor<'float32'> | null;
  noisePredText: Tensor<'float32'>;
  noisePred: Tensor<'float32'>;
}

/**
 * diffusers: `uncond, text = noise_pred.chunk(2)`;
 * `noise_pred = uncond + g * (text - uncond)`. Without guidance the U-Net ran
 * on the prompt alone and its output is the prediction.
 */
export function applyGuidance(unetOut: Tensor<'float32'>, guidanceScale: number, guided: boolean): GuidedPrediction {
  if (!guided) return { noisePredUncond: null, noisePredText: unetOut, noisePred: unetOut };
  const uncond = slice0(unetOut, 0);
  const text = slice0(unetOut, 1);
  const out = new Float32Array(uncond.data.length);
  const g = Math.fround(guidanceScale);
  for (let i = 0; i < out.length; i++) {
    const u = uncond.data[i];
    out[i] = u + Math.fround(g * Math.fround(text.data[i] - u));
  }
  return { noisePredUncond: uncond, noisePredText: text, noisePred: makeTensor('float32', uncond.dims, out) };
}
