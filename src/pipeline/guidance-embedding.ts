/**
 * The guidance-scale embedding LCM-distilled U-Nets take as `timestep_cond`,
 * exactly as diffusers' `get_guidance_scale_embedding(w, embedding_dim)` with
 * w = guidance_scale − 1, in torch's float32 op order.
 */
import { type Tensor, makeTensor } from '../tensor/tensor.ts';

const f = Math.fround;

export function guidanceScaleEmbedding(guidanceScale: number, dim: number, batch = 1): Tensor<'float32'> {
  // torch.tensor(guidance_scale - 1): the difference in double, then float32; `w * 1000.0` in float32.
  const w = f(f(guidanceScale - 1) * 1000);
  const half = Math.floor(dim / 2);
  const step = f(f(Math.log(10000)) / (half - 1));
  const row = new Float32Array(dim);
  for (let i = 0; i < half; i++) {
    const freq = f(Math.exp(f(i * -step)));
    const x = f(w * freq);
    row[i] = f(Math.sin(x));
    row[half + i] = f(Math.cos(x));
  }
  // An odd width is zero-padded at the end (already 0).
  const data = new Float32Array(dim * batch);
  for (let b = 0; b < batch; b++) data.set(row, b * dim);
  return makeTensor('float32', [batch, dim], data);
}
