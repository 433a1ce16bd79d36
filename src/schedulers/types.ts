import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseGenerator } from '../rng/types.ts';

/** lockstep's short name of a scheduler class (samplers.ts SHORT_NAMES: ddim, euler-a, dpmpp-2m, …). */
export type SchedulerName = string;

export type GeneratorUse = 'none' | 'every-step' | 'all-but-last' | 'while-timestep-positive';

/** A diffusers scheduler_config.json, as loaded (keys of other classes are kept here and ignored by from_config). */
export type SchedulerConfig = Record<string, unknown>;

/**
 * One interface for all schedulers, mirroring diffusers: `setTimesteps`, then
 * per step `scaleModelInput` and `step`. Tensors are float32, like the
 * pipeline's latents; internal arithmetic follows diffusers' own precision.
 */
export interface Scheduler {
  readonly name: SchedulerName;
  /** The effective config: file keys merged over the class defaults. */
  readonly config: Readonly<SchedulerConfig>;
  readonly initNoiseSigma: number;
  /** Valid after setTimesteps. Values as diffusers holds them. */
  readonly timesteps: readonly number[];
  /**
   * dtype of `scheduler.timesteps` in diffusers: int64 (DDIM, PNDM, DPM-Solver, LCM, DDPM, TCD), float32
   * (Euler family), float64 (Heun, KDPM2, LMS with Karras sigmas: numpy's float64 `_sigma_to_t`).
   */
  readonly timestepDtype: 'int64' | 'float32' | 'float64';
  /**
   * How `step` uses the generator it is given: 'none'; 'every-step' (Euler
   * ancestral uses the draw, plain Euler draws a tensor and discards it —
   * modelled so later draws stay aligned with diffusers; KDPM2 ancestral draws on
   * both calls of a step and uses the second); 'all-but-last' (LCM, TCD with eta > 0);
   * 'while-timestep-positive' (DDPM: every step whose timestep is > 0).
   */
  readonly generatorUse: GeneratorUse;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'>;
  /**
   * diffusers' `add_noise(original, noise, timesteps[:1])`: the sample at one
   * timestep of the schedule (img2img's start; diffusers' own tests use it).
   * Only where a class implements it.
   */
  addNoise?(original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number): Tensor<'float32'>;
  /** Returns prev_sample. `generator` is used by schedulers that add noise (Euler ancestral, LCM). */
  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, generator?: NoiseGenerator): Tensor<'float32'>;
  /** diffusers' class `order`: U-Net calls per step, where the timesteps hold both (2: Heun); 1 when absent. */
  readonly callsPerStep?: number;
  /**
   * set_timesteps(n, strength=s) of LCMScheduler, as LatentConsistencyModelImg2ImgPipeline calls it: the origin
   * schedule shortened to int(original_inference_steps · s), all n steps picked from it (no get_timesteps cut).
   */
  setTimestepsForStrength?(numInferenceSteps: number, strength: number): void;
  /** diffusers' `set_begin_index`: image-to-image starts at this index of the schedule (after setTimesteps). */
  setBeginIndex?(index: number): void;
  /** LCM: the denoised sample of the last step (the LCM pipeline decodes it, not the latents). */
  readonly lastDenoised?: Tensor<'float32'> | null;
}
