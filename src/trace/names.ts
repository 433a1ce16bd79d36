/**
 * Tensor names inside a trace, as in TRACE_FORMAT.md (paths without `.npy`).
 * One place for them, so the writer, the reader and the engine agree.
 */
export const TRACE_FORMAT = 'lockstep.trace/1';
export const TRACE_MAJOR = 1;

export const TEXT = {
  condIds: 'text/cond_ids',
  uncondIds: 'text/uncond_ids',
  promptEmbeds: 'text/prompt_embeds',
} as const;

export const LATENTS = {
  initial: 'latents/initial',
  scaled: 'latents/scaled',
} as const;

export const FINAL = {
  latents: 'final/latents',
  decoded: 'final/decoded',
  image: 'final/image.png',
} as const;

export type StepTensor = 'timestep' | 'latent_model_input' | 'noise_pred_uncond' | 'noise_pred_text' | 'noise_pred' | 'latents';
export const STEP_TENSORS: readonly StepTensor[] = ['timestep', 'latent_model_input', 'noise_pred_uncond', 'noise_pred_text', 'noise_pred', 'latents'];

export function stepDir(index: number): string {
  return `steps/${String(index).padStart(3, '0')}`;
}

export function stepName(index: number, tensor: StepTensor): string {
  return `${stepDir(index)}/${tensor}`;
}
