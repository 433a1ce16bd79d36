/**
 * Tensor names inside a trace, as in TRACE_FORMAT.md (paths without `.npy`).
 * One place for them, so the writer, the reader and the engine agree.
 */
/** 1.1 added the family tensors (text/*_2, cond/*, image/*, steps/NNN/denoised); 1.0 traces read unchanged. */
export const TRACE_FORMAT = 'lockstep.trace/1.1';
export const TRACE_MAJOR = 1;

export const TEXT = {
  condIds: 'text/cond_ids',
  uncondIds: 'text/uncond_ids',
  promptEmbeds: 'text/prompt_embeds',
  /** SDXL's second tokenizer. */
  condIds2: 'text/cond_ids_2',
  uncondIds2: 'text/uncond_ids_2',
} as const;

/** Extra U-Net inputs, named as optimum's U-Net inputs, in the U-Net's batch order (constant over the run). */
export const COND = {
  timestepCond: 'cond/timestep_cond',
  textEmbeds: 'cond/text_embeds',
  timeIds: 'cond/time_ids',
} as const;

/** Image-to-image: the preprocessed image, the VAE encoder's output, its sample and the scaled init latents. */
export const IMAGE = {
  input: 'image/input',
  latentParameters: 'image/latent_parameters',
  encoderNoise: 'image/encoder_noise',
  latentSample: 'image/latent_sample',
  initLatents: 'image/init_latents',
  latentTimestep: 'image/latent_timestep',
  /** The input image file itself (the manifest's pipeline.image names it, relative to the trace). */
  inputPng: 'image/input.png',
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

export type StepTensor = 'timestep' | 'latent_model_input' | 'noise_pred_uncond' | 'noise_pred_text' | 'noise_pred' | 'latents' | 'denoised';
/** `denoised`: LCM's consistency-model estimate after each step (the pipeline decodes the last one). */
export const STEP_TENSORS: readonly StepTensor[] = ['timestep', 'latent_model_input', 'noise_pred_uncond', 'noise_pred_text', 'noise_pred', 'latents', 'denoised'];

export function stepDir(index: number): string {
  return `steps/${String(index).padStart(3, '0')}`;
}

export function stepName(index: number, tensor: StepTensor): string {
  return `${stepDir(index)}/${tensor}`;
}
