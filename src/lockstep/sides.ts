/**
 * The two kinds of build behind one interface: a live model folder runs the
 * pipeline; a recorded trace replays it. The engine never asks which it has,
 * except to know whether a build can be fed someone else's inputs.
 */
import type { BackendOptions } from '../models/backend.ts';
import { type ComponentName, type OrtClock, type OrtClockReading, castTo } from '../models/component.ts';
import type { LoadedModel } from '../pipeline/load.ts';
import { type ModelLease, loadedModels } from '../pipeline/loaded-models.ts';
import { applyGuidance, type GuidedPrediction } from '../pipeline/guidance.ts';
import { type RgbImage, decodedToImage, readPng, startReading } from '../pipeline/image.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { type InputImage, PipelineRun, decode } from '../pipeline/run.ts';
import { type EncodedImage, UNET_EXTRA_INPUTS, type UnetExtras } from '../models/sd-model.ts';
import { type DualEncoding, encodePair } from '../pipeline/conditioning.ts';
import { type Tensor, toFloat32 } from '../tensor/tensor.ts';
import { COND, FINAL, IMAGE, TEXT } from '../trace/names.ts';
import { TraceReader } from '../trace/reader.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What a run prepares before its steps — text-side tensors and (image-to-image) the image start; absent when a trace did not record them. */
export interface TextTensors {
  condIds?: Tensor;
  uncondIds?: Tensor;
  /** SDXL's second tokenizer. */
  condIds2?: Tensor;
  uncondIds2?: Tensor;
  promptEmbeds?: Tensor<'float32'>;
  /** Extra U-Net inputs (timestep_cond, text_embeds, time_ids), fed teacher-forced from the reference like the embeddings. */
  extras?: UnetExtras;
  /** SDXL: each text encoder's hidden size, where promptEmbeds' last axis splits between them (a live build's own; a trace's manifest `textEncoderWidths`). */
  encoderWidths?: readonly [number, number];
  /** Image-to-image: the preprocessed image and the VAE encoder's answer to it. */
  image?: ImageTensors;
}

export interface ImageTensors {
  input?: Tensor<'float32'>;
  /** latent_parameters (the distribution's moments), or latent_sample from an export that samples inside its graph. */
  encoded?: EncodedImage;
}

export interface StepTensors {
  timestep: number;
  latentModelInput?: Tensor<'float32'>;
  noisePredUncond?: Tensor<'float32'> | null;
  noisePredText?: Tensor<'float32'>;
  noisePred?: Tensor<'float32'>;
  latents?: Tensor<'float32'>;
  /** LCM's denoised estimate. */
  denoised?: Tensor<'float32'>;
}

export interface FinalTensors {
  latents?: Tensor<'float32'>;
  decoded?: Tensor<'float32'>;
  image?: RgbImage;
}

/** Inputs of one U-Net step, as the reference saw them. */
export interface UnetInputs {
  latentModelInput: Tensor<'float32'>;
  timestep: number;
  promptEmbeds: Tensor<'float32'>;
  extras?: UnetExtras;
}

/** What only a live build can do: compute on inputs it is given. */
export interface LiveCompute {
  teacherForce(inputs: UnetInputs): Promise<GuidedPrediction>;
  encodeText(ids: Tensor): Promise<Tensor<'float32'>>;
  /** SDXL: both text encoders on one prompt's ids (each tokenizer's). */
  encodeTextPair(ids: Tensor, ids2: Tensor): Promise<DualEncoding>;
  encodeImage(image: Tensor<'float32'>): Promise<EncodedImage>;
  decode(latents: Tensor<'float32'>): Promise<Tensor<'float32'>>;
}

export interface Side {
  readonly kind: 'model' | 'trace';
  readonly path: string;
  /** Recorded candidate traces made by import-outputs hold teacher-forced outputs. */
  readonly recordsTeacherForced: boolean;
  readonly live: LiveCompute | null;
  /** The ORT clock of a live build's sessions; shared by sides that share the build. */
  readonly clock: OrtClock | null;
  /** The clock's reading when this side took the build (zero when it opened the sessions itself). */
  readonly clockAtOpen: OrtClockReading | null;
  timesteps(): readonly number[];
  prepare(): Promise<TextTensors>;
  step(index: number): Promise<StepTensors>;
  finish(): Promise<FinalTensors>;
  /** The run will not need this component again: a live build may free its session (memory). */
  doneWith(component: ComponentName): Promise<void>;
  release(): Promise<void>;
}

export class LiveSide implements Side {
  readonly kind = 'model';
  readonly recordsTeacherForced = false;
  readonly live: LiveCompute;
  private readonly run: PipelineRun;
  private readonly text: TextTensors = {};
  private readonly image: ImageTensors = {};
  readonly clockAtOpen: OrtClockReading;
  readonly model: LoadedModel;

  private constructor(
    readonly path: string,
    private readonly lease: ModelLease,
    requested: PipelineSettings,
    image: InputImage | null,
  ) {
    const model = lease.model;
    this.model = model;
    this.clockAtOpen = lease.opened ? { seconds: 0, sessionSeconds: 0, calls: 0 } : model.onnx.clock.reading();
    this.run = new PipelineRun(model, requested, { tensor: (name, t) => this.capture(name, t) }, image);
    const settings = this.run.settings;
    const guided = this.run.guided;
    this.live = {
      teacherForce: async (inp) => {
        const out = await model.components.predictNoise(inp.latentModelInput, inp.timestep, inp.promptEmbeds, inp.extras);
        return applyGuidance(out.noisePred, settings.guidanceScale, guided);
      },
      encodeText: (ids) => model.components.encodeText(castTo(ids, 'int64') as Tensor<'int64'>),
      encodeTextPair: (ids, ids2) => encodePair(model.components, castTo(ids, 'int64') as Tensor<'int64'>, castTo(ids2, 'int64') as Tensor<'int64'>),
      encodeImage: (image) => model.components.encodeImage(image),
      decode: (latents) => decode(model, latents),
    };
  }

  static async open(path: string, backend: BackendOptions, settings: PipelineSettings): Promise<LiveSide> {
    const image = startReading(settings);
    const lease = await loadedModels.acquire(path, backend, settings);
    try {
      return new LiveSide(path, lease, settings, await image);
    } catch (err) {
      await lease.release();
      throw err;
    }
  }

  /** The settings with defaults resolved (e.g. the model's own scheduler). */
  get settings(): PipelineSettings {
    return this.run.settings;
  }

  get clock(): OrtClock {
    return this.model.onnx.clock;
  }

  timesteps(): readonly number[] {
    return this.run.timesteps;
  }

  private capture(name: string, t: Tensor): void {
    if (name === TEXT.condIds) this.text.condIds = t;
    if (name === TEXT.uncondIds) this.text.uncondIds = t;
    if (name === TEXT.condIds2) this.text.condIds2 = t;
    if (name === TEXT.uncondIds2) this.text.uncondIds2 = t;
    if (name === IMAGE.input) this.image.input = t as Tensor<'float32'>;
    if (name === IMAGE.latentParameters) this.image.encoded = { kind: 'latent_parameters', tensor: t as Tensor<'float32'> };
    // latent_sample is emitted for both kinds: it is the encoder's own answer only when no moments came before it.
    if (name === IMAGE.latentSample && !this.image.encoded) this.image.encoded = { kind: 'latent_sample', tensor: t as Tensor<'float32'> };
  }

  async prepare(): Promise<TextTensors> {
    await this.run.prepare();
    const widths = this.run.encoderWidths;
    return { ...this.text, promptEmbeds: this.run.embeddings, extras: this.run.extras, ...(widths ? { encoderWidths: widths } : {}), ...(this.image.input ? { image: this.image } : {}) };
  }

  async step(index: number): Promise<StepTensors> {
    const r = await this.run.step(index);
    return {
      timestep: r.timestep,
      latentModelInput: r.latentModelInput,
      noisePredUncond: r.noisePredUncond,
      noisePredText: r.noisePredText,
      noisePred: r.noisePred,
      latents: r.latents,
      denoised: r.denoised ?? undefined,
    };
  }

  async finish(): Promise<FinalTensors> {
    return this.run.finish();
  }

  /** Whether the sessions are shared with `other` (a self-check: same files, same settings). */
  sharesBuildWith(other: Side): boolean {
    return other instanceof LiveSide && other.model === this.model;
  }

  async doneWith(component: ComponentName): Promise<void> {
    await this.lease.doneWith(component);
  }

  async release(): Promise<void> {
    await this.lease.release();
  }
}

export class TraceSide implements Side {
  readonly kind = 'trace';
  readonly live = null;
  readonly clock = null;
  readonly clockAtOpen = null;
  readonly reader: TraceReader;

  constructor(readonly path: string) {
    this.reader = new TraceReader(path);
  }

  get recordsTeacherForced(): boolean {
    return this.reader.manifest.teacherForced === true;
  }

  timesteps(): readonly number[] {
    return this.reader.recordedTimesteps();
  }

  async prepare(): Promise<TextTensors> {
    return {
      condIds: this.reader.get(TEXT.condIds),
      uncondIds: this.reader.get(TEXT.uncondIds),
      condIds2: this.reader.get(TEXT.condIds2),
      uncondIds2: this.reader.get(TEXT.uncondIds2),
      promptEmbeds: f32(this.reader.get(TEXT.promptEmbeds)),
      extras: recordedExtras(this.reader),
      image: recordedImage(this.reader),
      encoderWidths: this.reader.manifest.textEncoderWidths,
    };
  }

  async step(index: number): Promise<StepTensors> {
    const get = (n: Parameters<TraceReader['step']>[1]) => f32(this.reader.step(index, n));
    // The scheduler's timestep, as a live side reports it: the fed tensor can hold less (an int64
    // U-Net gets 411 for Euler's 411.415), and feeding either value casts to the same U-Net input.
    const scheduled = this.timesteps()[index];
    return {
      timestep: Number.isNaN(scheduled) || scheduled === undefined ? Number(this.reader.step(index, 'timestep')?.data[0]) : scheduled,
      latentModelInput: get('latent_model_input'),
      noisePredUncond: get('noise_pred_uncond') ?? null,
      noisePredText: get('noise_pred_text'),
      noisePred: get('noise_pred'),
      latents: get('latents'),
      denoised: get('denoised'),
    };
  }

  async finish(): Promise<FinalTensors> {
    const decoded = f32(this.reader.get(FINAL.decoded));
    const png = join(this.reader.dir, FINAL.image);
    const image = existsSync(png) ? await readPng(png) : decoded ? decodedToImage(decoded) : undefined;
    return { latents: f32(this.reader.get(FINAL.latents)), decoded, image };
  }

  async doneWith(): Promise<void> {}

  async release(): Promise<void> {}
}

/** cond/<input> files of a 1.1 trace; none in a 1.0 trace. */
function recordedExtras(reader: TraceReader): UnetExtras {
  const extras: UnetExtras = {};
  for (const name of UNET_EXTRA_INPUTS) {
    const t = f32(reader.get(`${COND_DIR}/${name}`));
    if (t) extras[name] = t;
  }
  return extras;
}

const COND_DIR = COND.timestepCond.split('/')[0];

/** image/input and the VAE encoder's answer to it (latent_parameters; latent_sample only when the export gave no moments); undefined for text-to-image. */
function recordedImage(reader: TraceReader): ImageTensors | undefined {
  const input = f32(reader.get(IMAGE.input));
  const parameters = f32(reader.get(IMAGE.latentParameters));
  const sample = f32(reader.get(IMAGE.latentSample));
  const encoded: EncodedImage | undefined = parameters ? { kind: 'latent_parameters', tensor: parameters } : sample ? { kind: 'latent_sample', tensor: sample } : undefined;
  if (!input && !encoded) return undefined;
  return { ...(input ? { input } : {}), ...(encoded ? { encoded } : {}) };
}

function f32(t: Tensor | undefined): Tensor<'float32'> | undefined {
  return t ? toFloat32(t) : undefined;
}
