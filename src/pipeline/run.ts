/**
 * One run of a diffusers pipeline — StableDiffusionPipeline (SD 1.x/2.x,
 * Turbo), LatentConsistencyModelPipeline, StableDiffusionXLPipeline, and
 * their image-to-image forms — exactly as its `__call__`, as a step-wise run
 * so the lockstep engine can drive two builds side by side. What differs
 * between families is in family.ts (which pipeline), conditioning.ts (what
 * the U-Net is conditioned on) and img2img.ts (the image start). Every
 * intermediate tensor goes to the observer under its trace name.
 */
import { checkTrainingRange } from './timestep-range.ts';
import { UsageError } from '../errors.ts';
import type { ModelLayout } from '../models/layout.ts';
import type { SdComponents, UnetExtras } from '../models/sd-model.ts';
import { createGenerator } from '../rng/index.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import { createScheduler } from '../schedulers/index.ts';
import type { Scheduler, SchedulerConfig } from '../schedulers/types.ts';
import { type Tensor, concat0, makeTensor } from '../tensor/tensor.ts';
import type { ClipTokenizer } from '../tokenizer/index.ts';
import { FINAL, LATENTS, stepName } from '../trace/names.ts';
import { encodeConditioning } from './conditioning.ts';
import type { Family } from './family.ts';
import { applyGuidance } from './guidance.ts';
import { type RgbImage, decodedToImage } from './image.ts';
import { prepareImageLatents, preprocessImage, setTimestepsForStrength, strengthBeginIndex, validateStrength } from './img2img.ts';
import { DEFAULT_STRENGTH, type PipelineSettings, usesGuidance, validateSettings, withModelScheduler } from './settings.ts';

/** What the pipeline needs from a model folder besides its ONNX sessions. */
export interface PipelineModel {
  components: SdComponents;
  family: Family;
  tokenizer: ClipTokenizer;
  /** SDXL's second tokenizer; null for single-encoder families. */
  tokenizer2: ClipTokenizer | null;
  schedulerConfig: SchedulerConfig;
  modelIndex: Record<string, unknown>;
  unetConfig: ModelLayout['unetConfig'];
  vaeScalingFactor: number;
  vaeScaleFactor: number;
  latentChannels: number;
}

/** The input image of an image-to-image run, already read (the CLI reads `--image`). */
export interface InputImage {
  path: string;
  image: RgbImage;
}

export interface PipelineObserver {
  tensor?(name: string, t: Tensor): void;
  warning?(message: string): void;
}

export interface StepResult {
  index: number;
  timestep: number;
  timestepFed: Tensor;
  latentModelInput: Tensor<'float32'>;
  noisePredUncond: Tensor<'float32'> | null;
  noisePredText: Tensor<'float32'>;
  noisePred: Tensor<'float32'>;
  latents: Tensor<'float32'>;
  /** LCM: the scheduler's denoised estimate. */
  denoised: Tensor<'float32'> | null;
}

export interface FinalResult {
  latents: Tensor<'float32'>;
  decoded: Tensor<'float32'>;
  image: RgbImage;
}

export class PipelineRun {
  readonly guided: boolean;
  readonly scheduler: Scheduler;
  readonly settings: PipelineSettings;
  /** The VAE encoder sampled inside its graph (older exports): said in the report. */
  sampledInGraph = false;
  private latents!: Tensor<'float32'>;
  private denoised: Tensor<'float32'> | null = null;
  private promptEmbeds!: Tensor<'float32'>;
  private unetExtras: UnetExtras = {};
  private widths: [number, number] | undefined;
  private readonly generator: NoiseGenerator;
  /** Image-to-image skips the schedule's first steps (get_timesteps; 0 for LCM, whose schedule strength shortens). */
  private readonly begin: number;

  constructor(
    readonly model: PipelineModel,
    settings: PipelineSettings,
    private readonly observer: PipelineObserver = {},
    private readonly inputImage: InputImage | null = null,
  ) {
    this.settings = validateSettings(withModelScheduler({ ...settings, family: model.family.name }, model.schedulerConfig), model.vaeScaleFactor);
    settings = this.settings;
    this.guided = model.family.classifierFree && usesGuidance(settings) && model.unetConfig.timeCondProjDim === null;
    this.scheduler = createScheduler(settings.scheduler, model.schedulerConfig);
    checkDecodableBy(model.family, this.scheduler, settings.scheduler);
    this.scheduler.setTimesteps(settings.steps);
    checkTrainingRange(this.scheduler, settings.steps, settings.scheduler, model.schedulerConfig);
    this.begin = this.imageBegin();
    this.generator = createGenerator(settings.noise, settings.seed);
  }

  private imageBegin(): number {
    if (!this.inputImage) return 0;
    const strength = this.settings.strength ?? DEFAULT_STRENGTH;
    if (this.model.family.strengthBy === 'set_timesteps') {
      setTimestepsForStrength(this.scheduler, this.settings.steps, strength);
      return 0;
    }
    validateStrength(strength, this.settings.steps);
    // get_timesteps: `timesteps[t_start * order:]` and set_begin_index(t_start * order).
    const begin = strengthBeginIndex(this.settings.steps, strength) * (this.scheduler.callsPerStep ?? 1);
    this.scheduler.setBeginIndex?.(begin);
    return begin;
  }

  /** The U-Net steps this run takes (image-to-image: the last int(steps · strength) of the schedule; LCM: all of its shortened one). */
  get timesteps(): readonly number[] {
    return this.scheduler.timesteps.slice(this.begin);
  }

  get embeddings(): Tensor<'float32'> {
    return this.promptEmbeds;
  }

  /** Extra U-Net inputs (timestep_cond, text_embeds, time_ids), constant over the run. */
  get extras(): UnetExtras {
    return this.unetExtras;
  }

  /** SDXL: each text encoder's hidden size, where the prompt embeddings' last axis splits between them. */
  get encoderWidths(): [number, number] | undefined {
    return this.widths;
  }

  /** Encodes the prompt(s) and prepares the initial latents (drawn, or from the image). */
  async prepare(): Promise<void> {
    const conditioning = await encodeConditioning({
      model: this.model,
      settings: this.settings,
      guided: this.guided,
      emit: (name, t) => this.emit(name, t),
      warn: (message) => this.observer.warning?.(message),
    });
    this.promptEmbeds = conditioning.promptEmbeds;
    this.unetExtras = conditioning.extras;
    this.widths = conditioning.encoderWidths;
    this.latents = this.inputImage ? await this.imageLatents(this.inputImage) : this.drawnLatents();
  }

  private drawnLatents(): Tensor<'float32'> {
    const { height, width } = this.settings;
    const f = this.model.vaeScaleFactor;
    const initial = this.generator.randn([1, this.model.latentChannels, height / f, width / f]);
    this.emit(LATENTS.initial, initial);
    const latents = scale(initial, this.scheduler.initNoiseSigma);
    this.emit(LATENTS.scaled, latents);
    return latents;
  }

  private async imageLatents(input: InputImage): Promise<Tensor<'float32'>> {
    const image = preprocessImage(input.image, this.settings.height, this.settings.width, input.path);
    const start = await prepareImageLatents(this.model, image, this.scheduler, this.timesteps[0], this.generator, (n, t) => this.emit(n, t));
    this.sampledInGraph = start.sampledInGraph;
    if (start.sampledInGraph) {
      this.observer.warning?.(`${input.path}: the VAE encoder outputs latent_sample (sampled inside its graph, an older optimum export); it was used as given, so it is not reproducible from the seed`);
    }
    return start.latents;
  }

  /** One denoising step, free-running on this build's own latents. */
  async step(index: number): Promise<StepResult> {
    if (!this.promptEmbeds) throw new Error('PipelineRun.step called before prepare()');
    const t = this.timesteps[index];
    if (t === undefined) throw new UsageError(`step ${index} is out of range (the run has ${this.timesteps.length} U-Net steps)`);
    const batched = this.guided ? concat0([this.latents, this.latents]) : this.latents;
    const latentModelInput = this.scheduler.scaleModelInput(batched, t);
    const unet = await this.model.components.predictNoise(latentModelInput, t, this.promptEmbeds, this.unetExtras);
    const guided = applyGuidance(unet.noisePred, this.settings.guidanceScale, this.guided);
    this.latents = this.scheduler.step(guided.noisePred, t, this.latents, this.generator);
    this.denoised = this.scheduler.lastDenoised ?? null;
    const result: StepResult = { index, timestep: t, timestepFed: unet.timestepFed, latentModelInput, ...guided, latents: this.latents, denoised: this.denoised };
    this.emitStep(result);
    return result;
  }

  private emitStep(r: StepResult): void {
    this.emit(stepName(r.index, 'timestep'), r.timestepFed);
    this.emit(stepName(r.index, 'latent_model_input'), r.latentModelInput);
    if (r.noisePredUncond) this.emit(stepName(r.index, 'noise_pred_uncond'), r.noisePredUncond);
    this.emit(stepName(r.index, 'noise_pred_text'), r.noisePredText);
    this.emit(stepName(r.index, 'noise_pred'), r.noisePred);
    this.emit(stepName(r.index, 'latents'), r.latents);
    if (r.denoised) this.emit(stepName(r.index, 'denoised'), r.denoised);
  }

  /** The latents the VAE decodes: the last step's latents, or LCM's denoised sample. */
  get finalLatents(): Tensor<'float32'> {
    return this.model.family.decodes === 'denoised' && this.denoised ? this.denoised : this.latents;
  }

  /** Decodes the final latents: VAE on latents / scaling_factor, then 8-bit RGB. */
  async finish(): Promise<FinalResult> {
    const latents = this.finalLatents;
    this.emit(FINAL.latents, latents);
    const decoded = await decode(this.model, latents);
    this.emit(FINAL.decoded, decoded);
    return { latents, decoded, image: decodedToImage(decoded) };
  }

  async runAll(onStep?: (index: number, total: number) => void): Promise<FinalResult> {
    await this.prepare();
    // Loop over the scheduler's timesteps, as diffusers does: PNDM's PLMS runs steps + 1 U-Net calls.
    const total = this.timesteps.length;
    for (let i = 0; i < total; i++) {
      await this.step(i);
      onStep?.(i + 1, total);
    }
    return this.finish();
  }

  private emit(name: string, t: Tensor): void {
    this.observer.tensor?.(name, t);
  }
}

/** `vae.decode(latents / scaling_factor)` (torch divides float32 by the scalar). */
export async function decode(model: Pick<PipelineModel, 'components' | 'vaeScalingFactor'>, latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
  const s = Math.fround(model.vaeScalingFactor);
  const input = makeTensor('float32', latents.dims, latents.data.map((x) => x / s));
  return model.components.decodeLatents(input);
}

function scale(t: Tensor<'float32'>, factor: number): Tensor<'float32'> {
  if (factor === 1) return makeTensor('float32', t.dims, t.data.slice());
  const f = Math.fround(factor);
  return makeTensor('float32', t.dims, t.data.map((x) => x * f));
}

/**
 * LatentConsistencyModelPipeline unpacks `latents, denoised = scheduler.step(...)` and decodes `denoised`:
 * in diffusers 0.27.2 only LCMScheduler's step gives that pair (any other raises there), so lockstep refuses
 * the combination instead of decoding something diffusers never would.
 */
function checkDecodableBy(family: Family, scheduler: Scheduler, name: string): void {
  if (family.decodes !== 'denoised' || 'lastDenoised' in scheduler) return;
  throw new UsageError(
    `--scheduler ${name}: the ${family.name} pipeline (${family.pipelineClass}) decodes the denoised sample each scheduler step returns, which only LCMScheduler gives (diffusers 0.27.2 fails with any other); use --scheduler lcm or the model folder's own scheduler`,
  );
}
