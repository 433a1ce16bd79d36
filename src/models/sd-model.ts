/**
 * A Stable Diffusion model folder opened with ONNX Runtime: the three
 * components behind one small interface the pipeline and the lockstep engine
 * call. Input names follow optimum's export (`input_ids`; `sample`,
 * `timestep`, `encoder_hidden_states`; `latent_sample`).
 */
import { UsageError } from '../errors.ts';
import { type Tensor, makeTensor } from '../tensor/tensor.ts';
import { type BackendOptions, DEFAULT_BACKEND } from './backend.ts';
import { type ComponentName, OnnxComponent, OrtClock, castTo } from './component.ts';
import { type ModelLayout, readModelLayout } from './layout.ts';
import type { RuntimeInfo } from './session.ts';
import type { ComponentSignature } from './signature.ts';

export interface UnetOutput {
  noisePred: Tensor<'float32'>;
  /** The timestep exactly as fed to the U-Net (dtype and shape the model declares). */
  timestepFed: Tensor;
}

/** What a live build can compute; the pipeline depends only on this. */
export interface SdComponents {
  encodeText(ids: Tensor<'int64'>): Promise<Tensor<'float32'>>;
  predictNoise(sample: Tensor<'float32'>, timestep: number, embeds: Tensor<'float32'>): Promise<UnetOutput>;
  decodeLatents(latents: Tensor<'float32'>): Promise<Tensor<'float32'>>;
}

export class OnnxStableDiffusion implements SdComponents {
  readonly clock: OrtClock;

  private constructor(
    readonly layout: ModelLayout,
    readonly backend: BackendOptions,
    private readonly parts: Record<ComponentName, OnnxComponent>,
    clock: OrtClock,
  ) {
    this.clock = clock;
  }

  static async open(dir: string, backend: BackendOptions = DEFAULT_BACKEND): Promise<OnnxStableDiffusion> {
    const layout = readModelLayout(dir);
    const clock = new OrtClock();
    const open = (c: ComponentName) => OnnxComponent.open(c, layout.onnx[c], backend, clock);
    const parts = { text_encoder: await open('text_encoder'), unet: await open('unet'), vae_decoder: await open('vae_decoder') };
    parts.text_encoder.requireInputs(['input_ids']);
    parts.unet.requireInputs(['sample', 'timestep', 'encoder_hidden_states']);
    parts.vae_decoder.requireInputs(['latent_sample']);
    parts.unet.requireFloatInputs(['sample', 'encoder_hidden_states']);
    parts.vae_decoder.requireFloatInputs(['latent_sample']);
    checkLatentChannels(parts.unet, layout.latentChannels);
    return new OnnxStableDiffusion(layout, backend, parts, clock);
  }

  /** The ONNX Runtime build that runs this model (every component opens in the same one). */
  get runtime(): RuntimeInfo {
    return this.parts.unet.runtime;
  }

  signatures(): Record<ComponentName, ComponentSignature> {
    return { text_encoder: this.parts.text_encoder.signature, unet: this.parts.unet.signature, vae_decoder: this.parts.vae_decoder.signature };
  }

  async encodeText(ids: Tensor<'int64'>): Promise<Tensor<'float32'>> {
    const out = await this.parts.text_encoder.run({ input_ids: ids });
    return asFloat32(out.last_hidden_state ?? firstOutput(out), 'text_encoder last_hidden_state');
  }

  async predictNoise(sample: Tensor<'float32'>, timestep: number, embeds: Tensor<'float32'>): Promise<UnetOutput> {
    const unet = this.parts.unet;
    const timestepFed = castTo(makeTensor('float64', timestepDims(unet), new Float64Array(timestepCount(unet)).fill(timestep)), unet.declaredDtype('timestep'));
    const out = await unet.run({ sample, timestep: timestepFed, encoder_hidden_states: embeds }).catch((err: unknown) => {
      throw channelHint(err, sample.dims[1], this.layout.latentChannels);
    });
    return { noisePred: asFloat32(out.out_sample ?? firstOutput(out), 'unet out_sample'), timestepFed };
  }

  async decodeLatents(latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
    const out = await this.parts.vae_decoder.run({ latent_sample: latents });
    return asFloat32(out.sample ?? firstOutput(out), 'vae_decoder sample');
  }

  async release(): Promise<void> {
    for (const p of Object.values(this.parts)) await p.release();
  }
}

/** optimum declares timestep as [steps] (fed [1]); some ports use a scalar or a fixed batch. */
function timestepDims(unet: OnnxComponent): number[] {
  const shape = unet.input('timestep')!.shape;
  if (shape.length === 0) return [];
  return [timestepCount(unet)];
}

function timestepCount(unet: OnnxComponent): number {
  const shape = unet.input('timestep')!.shape;
  return shape.length === 1 && typeof shape[0] === 'number' ? shape[0] : 1;
}

function checkLatentChannels(unet: OnnxComponent, expected: number): void {
  const c = unet.input('sample')!.shape[1];
  if (typeof c === 'number' && c !== expected) {
    throw new UsageError(`${unet.file}: U-Net input 'sample' has ${c} channels, but the model folder's unet/config.json says in_channels ${expected}`);
  }
}

/** A failed U-Net call may come from a wrong unet/config.json in_channels, which sets the latents' channel count. */
function channelHint(err: unknown, fed: number, configured: number): unknown {
  if (!(err instanceof UsageError) || !/channel/i.test(err.message)) return err;
  return new UsageError(`${err.message} (lockstep fed 'sample' with ${fed} channels, from unet/config.json in_channels ${configured})`, { cause: err });
}

function firstOutput(out: Record<string, Tensor>): Tensor {
  return Object.values(out)[0];
}

function asFloat32(t: Tensor, what: string): Tensor<'float32'> {
  if (t.dtype === 'float32') return t as Tensor<'float32'>;
  if (t.dtype === 'float16' || t.dtype === 'float64') return castTo(t, 'float32') as Tensor<'float32'>;
  throw new UsageError(`${what}: expected a float output, got ${t.dtype}`);
}
