/**
 * Image-to-image's start, exactly as diffusers' StableDiffusionImg2ImgPipeline
 * (and SDXL's): VaeImageProcessor.preprocess, the VAE encoder, the latent
 * distribution sampled with the run's generator (retrieve_latents), scaling,
 * the timesteps `strength` leaves (get_timesteps; the LCM pipeline passes
 * strength to the scheduler's set_timesteps instead), then the scheduler's
 * add_noise. Generator order as diffusers: the encoder sample's noise first,
 * then the noise that is added.
 */
import { UsageError } from '../errors.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import type { Scheduler } from '../schedulers/types.ts';
import { type Tensor, int64, makeTensor } from '../tensor/tensor.ts';
import { IMAGE, LATENTS } from '../trace/names.ts';
import type { RgbImage } from './image.ts';
import type { PipelineModel } from './run.ts';

const f = Math.fround;

export interface ImageStart {
  latents: Tensor<'float32'>;
  /** The VAE encoder gave a sample drawn inside its graph (older optimum exports): used as given. */
  sampledInGraph: boolean;
}

function checkStrengthRange(strength: number): void {
  if (!Number.isFinite(strength) || strength <= 0 || strength > 1) {
    throw new UsageError(`--strength must be greater than 0 and at most 1 (image-to-image), got ${strength}`);
  }
}

/** `--strength` must leave at least one step: 0 < strength ≤ 1 and int(steps · strength) ≥ 1. */
export function validateStrength(strength: number, steps: number): void {
  checkStrengthRange(strength);
  if (Math.trunc(steps * strength) < 1) {
    throw new UsageError(`--strength ${strength} with --steps ${steps} leaves no denoising step (int(steps × strength) = 0); raise either`);
  }
}

/** LatentConsistencyModelImg2ImgPipeline: `scheduler.set_timesteps(steps, strength=strength)`; every step of it runs. */
export function setTimestepsForStrength(scheduler: Scheduler, steps: number, strength: number): void {
  checkStrengthRange(strength);
  if (!scheduler.setTimestepsForStrength) {
    throw new UsageError(`image-to-image: this pipeline passes strength to the scheduler's set_timesteps, which ${scheduler.name} does not take (diffusers fails too); use --scheduler lcm`);
  }
  scheduler.setTimestepsForStrength(steps, strength);
}

/** get_timesteps: the index of the schedule image-to-image starts at (scheduler order 1). */
export function strengthBeginIndex(steps: number, strength: number): number {
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  return Math.max(steps - initTimestep, 0);
}

/** VaeImageProcessor.preprocess of an image already at the run's size: uint8 / 255 (float32), then 2x − 1. */
export function preprocessImage(img: RgbImage, height: number, width: number, path: string): Tensor<'float32'> {
  if (img.height !== height || img.width !== width) {
    throw new UsageError(`${path}: the image is ${img.width}x${img.height}, but the run is --width ${width} --height ${height}; give an image of that size (lockstep does not resize)`);
  }
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  const rgb = img.data;
  for (let c = 0; c < 3; c++) {
    for (let p = 0, at = c; p < plane; p++, at += 3) out[c * plane + p] = UNIT_OF_BYTE[rgb[at]];
  }
  return makeTensor('float32', [1, 3, height, width], out);
}

/** A byte's value as VaeImageProcessor makes it, 2 · (v / 255) − 1 in float32, for each of the 256 bytes. */
const UNIT_OF_BYTE = Float32Array.from({ length: 256 }, (_, v) => f(f(2 * f(v / 255)) - 1));

export async function prepareImageLatents(
  model: PipelineModel,
  image: Tensor<'float32'>,
  scheduler: Scheduler,
  firstTimestep: number,
  generator: NoiseGenerator,
  emit: (name: string, t: Tensor) => void,
): Promise<ImageStart> {
  if (!scheduler.addNoise) throw new UsageError(`image-to-image: lockstep has no add_noise for ${scheduler.name}; use one that has it (ddim, pndm, euler, euler-a, heun, lcm, lms, ddpm, tcd, …)`);
  emit(IMAGE.input, image);
  const encoded = await model.components.encodeImage(image);
  let sample: Tensor<'float32'>;
  if (encoded.kind === 'latent_parameters') {
    emit(IMAGE.latentParameters, encoded.tensor);
    const { mean, logvar } = splitMoments(encoded.tensor);
    const eps = generator.randn(mean.dims);
    emit(IMAGE.encoderNoise, eps);
    sample = mapPair(mean, logvar, (m, lv, i) => f(m + f(f(Math.exp(f(0.5 * clamp(lv, -30, 20)))) * eps.data[i])));
  } else {
    sample = encoded.tensor;
  }
  emit(IMAGE.latentSample, sample);
  const sf = f(model.vaeScalingFactor);
  const init = makeTensor('float32', sample.dims, sample.data.map((x) => f(sf * x)));
  emit(IMAGE.initLatents, init);
  const noise = generator.randn(init.dims);
  emit(LATENTS.initial, noise);
  emit(IMAGE.latentTimestep, scheduler.timestepDtype === 'int64' ? int64([1], [firstTimestep]) : makeTensor('float32', [1], Float32Array.of(firstTimestep)));
  const latents = scheduler.addNoise(init, noise, firstTimestep);
  emit(LATENTS.scaled, latents);
  return { latents, sampledInGraph: encoded.kind === 'latent_sample' };
}

/** DiagonalGaussianDistribution: mean and log-variance are the two halves of the channels. */
function splitMoments(params: Tensor<'float32'>): { mean: Tensor<'float32'>; logvar: Tensor<'float32'> } {
  const [b, c2, h, w] = params.dims;
  if (params.dims.length !== 4 || c2 % 2 !== 0) throw new UsageError(`vae_encoder latent_parameters: expected [B, 2C, h, w], got [${params.dims.join(',')}]`);
  const c = c2 / 2;
  const mean = new Float32Array(b * c * h * w);
  const logvar = new Float32Array(b * c * h * w);
  const chunk = c * h * w;
  for (let n = 0; n < b; n++) {
    mean.set(params.data.subarray(n * 2 * chunk, n * 2 * chunk + chunk), n * chunk);
    logvar.set(params.data.subarray(n * 2 * chunk + chunk, (n + 1) * 2 * chunk), n * chunk);
  }
  const dims = [b, c, h, w];
  return { mean: makeTensor('float32', dims, mean), logvar: makeTensor('float32', dims, logvar) };
}

function mapPair(a: Tensor<'float32'>, b: Tensor<'float32'>, fn: (x: number, y: number, i: number) => number): Tensor<'float32'> {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(a.data[i], b.data[i], i);
  return makeTensor('float32', a.dims, out);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}
