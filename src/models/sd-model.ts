/**
 * A Stable Diffusion model folder opened with ONNX Runtime: its components
 * behind one small interface the pipeline and the lockstep engine call.
 * Input names follow optimum's export (`input_ids`; `sample`, `timestep`,
 * `encoder_hidden_states` and the extra U-Net inputs `timestep_cond`,
 * `text_embeds`, `time_ids`; `latent_sample`; the VAE encoder's `sample` →
 * `latent_parameters`, or `latent_sample` in older exports).
 */
import { UsageError } from '../errors.ts';
import { type Tensor, makeTensor } from '../tensor/tensor.ts';
import { type BackendOptions, DEFAULT_BACKEND } from './backend.ts';
import { type ComponentName, OPTIONAL_COMPONENTS, OnnxComponent, OrtClock, castTo } from './component.ts';
import { type ModelLayout, readModelLayout } from './layout.ts';
import type { RuntimeInfo } from './session.ts';
import type { ComponentSignature } from './signature.ts';

export interface UnetOutput {
  noisePred: Tensor<'float32'>;
  /** The timestep exactly as fed to the U-Net (dtype and shape the model declares). */
  timestepFed: Tensor;
}

/** U-Net inputs beyond sample/timestep/encoder_hidden_states, batch-aligned with the sample (optimum's names). */
export interface UnetExtras {
  /** LCM: the guidance-scale embedding. */
  timestep_cond?: Tensor<'float32'>;
  /** SDXL: pooled text embeddings. */
  text_embeds?: Tensor<'float32'>;
  /** SDXL: (original size, crop top-left, target size). */
  time_ids?: Tensor<'float32'>;
}
export const UNET_EXTRA_INPUTS = ['timestep_cond', 'text_embeds', 'time_ids'] as const;

export type TextEncoderName = 'text_encoder' | 'text_encoder_2';

/** The VAE encoder's answer: the distribution's moments (optimum today), or a sample drawn inside the graph (older exports). */
export interface EncodedImage {
  kind: 'latent_parameters' | 'latent_sample';
  tensor: Tensor<'float32'>;
}

/** What a live build can compute; the pipeline depends only on this. */
export interface SdComponents {
  encodeText(ids: Tensor<'int64'>): Promise<Tensor<'float32'>>;
  /** Every output of a text encoder (last_hidden_state, pooler_output / text_embeds, hidden_states.N), as float32. */
  encodeTextOutputs(ids: Tensor<'int64'>, encoder: TextEncoderName): Promise<Record<string, Tensor<'float32'>>>;
  predictNoise(sample: Tensor<'float32'>, timestep: number, embeds: Tensor<'float32'>, extras?: UnetExtras): Promise<UnetOutput>;
  encodeImage(image: Tensor<'float32'>): Promise<EncodedImage>;
  decodeLatents(latents: Tensor<'float32'>): Promise<Tensor<'float32'>>;
}

type OptionalComponent = (typeof OPTIONAL_COMPONENTS)[number];

export interface OpenOptions {
  /**
   * Optional components opened only when a run first calls them: text-to-image never calls the VAE
   * encoder, so opening it would only cost its session's time and weights.
   */
  deferred?: readonly OptionalComponent[];
}

export class OnnxStableDiffusion implements SdComponents {
  readonly clock: OrtClock;
  /** Files of the deferred components not opened yet. */
  private readonly deferred: Partial<Record<OptionalComponent, string>>;
  /** Deferred components being opened now. */
  private readonly opening = new Map<ComponentName, Promise<OnnxComponent>>();

  private constructor(
    readonly layout: ModelLayout,
    readonly backend: BackendOptions,
    private readonly parts: Partial<Record<ComponentName, OnnxComponent>> & Record<'text_encoder' | 'unet' | 'vae_decoder', OnnxComponent>,
    clock: OrtClock,
    deferred: Partial<Record<OptionalComponent, string>>,
  ) {
    this.clock = clock;
    this.deferred = deferred;
  }

  static async open(dir: string, backend: BackendOptions = DEFAULT_BACKEND, options: OpenOptions = {}): Promise<OnnxStableDiffusion> {
    const layout = readModelLayout(dir);
    const clock = new OrtClock();
    const open = (c: ComponentName, file: string) => OnnxComponent.open(c, file, backend, clock);
    const parts: OnnxStableDiffusion['parts'] = {
      text_encoder: await open('text_encoder', layout.onnx.text_encoder),
      unet: await open('unet', layout.onnx.unet),
      vae_decoder: await open('vae_decoder', layout.onnx.vae_decoder),
    };
    const deferred: Partial<Record<OptionalComponent, string>> = {};
    for (const c of OPTIONAL_COMPONENTS) {
      const file = layout.onnx[c];
      if (file && options.deferred?.includes(c)) deferred[c] = file;
      else if (file) parts[c] = checkOptional(await open(c, file));
    }
    parts.text_encoder.requireInputs(['input_ids']);
    parts.unet.requireInputs(['sample', 'timestep', 'encoder_hidden_states']);
    parts.vae_decoder.requireInputs(['latent_sample']);
    parts.unet.requireFloatInputs(['sample', 'encoder_hidden_states']);
    parts.vae_decoder.requireFloatInputs(['latent_sample']);
    checkLatentChannels(parts.unet, layout.latentChannels);
    return new OnnxStableDiffusion(layout, backend, parts, clock, deferred);
  }

  /** The ONNX Runtime build that runs this model (every component opens in the same one). */
  get runtime(): RuntimeInfo {
    return this.parts.unet.runtime;
  }

  signatures(): Partial<Record<ComponentName, ComponentSignature>> {
    const out: Partial<Record<ComponentName, ComponentSignature>> = {};
    for (const [name, part] of Object.entries(this.parts)) out[name as ComponentName] = part.signature;
    return out;
  }

  /** Which components the folder has (opened or deferred), and the U-Net's input names (for family detection). */
  has(component: ComponentName): boolean {
    return this.parts[component] !== undefined || this.deferred[component as OptionalComponent] !== undefined;
  }

  unetInputNames(): string[] {
    return this.parts.unet.signature.inputs.map((s) => s.name);
  }

  async encodeText(ids: Tensor<'int64'>): Promise<Tensor<'float32'>> {
    const out = await this.parts.text_encoder.run({ input_ids: ids });
    return asFloat32(out.last_hidden_state ?? firstOutput(out), 'text_encoder last_hidden_state');
  }

  async encodeTextOutputs(ids: Tensor<'int64'>, encoder: TextEncoderName): Promise<Record<string, Tensor<'float32'>>> {
    const part = await this.require(encoder);
    const out = await part.run({ input_ids: ids });
    const floats: Record<string, Tensor<'float32'>> = {};
    for (const [name, t] of Object.entries(out)) floats[name] = asFloat32(t, `${encoder} ${name}`);
    return floats;
  }

  async predictNoise(sample: Tensor<'float32'>, timestep: number, embeds: Tensor<'float32'>, extras: UnetExtras = {}): Promise<UnetOutput> {
    const unet = this.parts.unet;
    const timestepFed = castTo(makeTensor('float64', timestepDims(unet), new Float64Array(timestepCount(unet)).fill(timestep)), unet.declaredDtype('timestep'));
    const feeds: Record<string, Tensor> = { sample, timestep: timestepFed, encoder_hidden_states: embeds };
    for (const name of UNET_EXTRA_INPUTS) {
      const t = extras[name];
      if (t) feeds[name] = t;
    }
    const out = await unet.run(feeds).catch((err: unknown) => {
      throw channelHint(err, sample.dims[1], this.layout.latentChannels);
    });
    return { noisePred: asFloat32(out.out_sample ?? firstOutput(out), 'unet out_sample'), timestepFed };
  }

  async encodeImage(image: Tensor<'float32'>): Promise<EncodedImage> {
    const out = await (await this.require('vae_encoder')).run({ sample: image });
    if (out.latent_parameters) return { kind: 'latent_parameters', tensor: asFloat32(out.latent_parameters, 'vae_encoder latent_parameters') };
    if (out.latent_sample) return { kind: 'latent_sample', tensor: asFloat32(out.latent_sample, 'vae_encoder latent_sample') };
    const names = Object.keys(out).join(', ');
    throw new UsageError(`${this.layout.onnx.vae_encoder}: the VAE encoder outputs ${names}; expected 'latent_parameters' (optimum) or 'latent_sample' (older exports)`);
  }

  /** Opens a deferred component now (its signature is then known); a no-op when it is open or absent. */
  async openDeferred(component: OptionalComponent): Promise<void> {
    if (this.deferred[component]) await this.require(component);
  }

  private async require(component: ComponentName): Promise<OnnxComponent> {
    const opened = this.parts[component];
    if (opened) return opened;
    const file = this.deferred[component as OptionalComponent];
    if (!file) throw new UsageError(`${this.layout.dir}: missing ${component}/model.onnx, which this pipeline needs`);
    // One opening however many callers ask at once; a failed one is forgotten, so a later call tries again.
    let opening = this.opening.get(component);
    if (!opening) {
      opening = this.openChecked(component, file).finally(() => this.opening.delete(component));
      this.opening.set(component, opening);
    }
    return opening;
  }

  private async openChecked(component: ComponentName, file: string): Promise<OnnxComponent> {
    const part = await OnnxComponent.open(component, file, this.backend, this.clock);
    try {
      checkOptional(part);
    } catch (err) {
      await part.release();
      throw err;
    }
    delete this.deferred[component as OptionalComponent];
    this.parts[component] = part;
    return part;
  }

  async decodeLatents(latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
    const out = await this.parts.vae_decoder.run({ latent_sample: latents });
    return asFloat32(out.sample ?? firstOutput(out), 'vae_decoder sample');
  }

  /**
   * Frees one component's session while the others stay open: a run that is
   * done with the text encoder need not hold its weights through the U-Net's
   * steps. Calling the component again opens it again.
   */
  async releaseComponent(name: ComponentName): Promise<void> {
    await this.parts[name]?.release();
  }

  async release(): Promise<void> {
    for (const p of Object.values(this.parts)) await p.release();
  }
}

/** The inputs lockstep feeds an optional component, checked when it opens. */
function checkOptional(part: OnnxComponent): OnnxComponent {
  part.requireInputs([part.name === 'vae_encoder' ? 'sample' : 'input_ids']);
  return part;
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
