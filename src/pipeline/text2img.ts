/**
 * Text-to-image exactly as diffusers' StableDiffusionPipeline.__call__, as a
 * step-wise run so the lockstep engine can drive two builds side by side.
 * Every intermediate tensor goes to the observer under its trace name.
 */
import { UsageError } from '../errors.ts';
import type { SdComponents } from '../models/sd-model.ts';
import { createGenerator } from '../rng/index.ts';
import type { NoiseGenerator } from '../rng/types.ts';
import { createScheduler } from '../schedulers/index.ts';
import type { Scheduler, SchedulerConfig } from '../schedulers/types.ts';
import { type Tensor, concat0, int64, makeTensor } from '../tensor/tensor.ts';
import type { ClipTokenizer } from '../tokenizer/index.ts';
import { FINAL, LATENTS, TEXT, stepName } from '../trace/names.ts';
import { applyGuidance } from './guidance.ts';
import { checkTrainingRange } from './timestep-range.ts';
import { type RgbImage, decodedToImage } from './image.ts';
import { type PipelineSettings, usesGuidance, validateSettings, withModelScheduler } from './settings.ts';

/** What the pipeline needs from a model folder besides its ONNX sessions. */
export interface PipelineModel {
  components: SdComponents;
  tokenizer: ClipTokenizer;
  schedulerConfig: SchedulerConfig;
  vaeScalingFactor: number;
  vaeScaleFactor: number;
  latentChannels: number;
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
}

export interface FinalResult {
  latents: Tensor<'float32'>;
  decoded: Tensor<'float32'>;
  image: RgbImage;
}

export class Text2ImgRun {
  readonly guided: boolean;
  readonly scheduler: Scheduler;
  private latents!: Tensor<'float32'>;
  private promptEmbeds!: Tensor<'float32'>;
  private readonly generator: NoiseGenerator;

  readonly settings: PipelineSettings;

  constructor(
    readonly model: PipelineModel,
    settings: PipelineSettings,
    private readonly observer: PipelineObserver = {},
  ) {
    this.settings = validateSettings(withModelScheduler(settings, model.schedulerConfig), model.vaeScaleFactor);
    settings = this.settings;
    this.guided = usesGuidance(settings);
    this.scheduler = createScheduler(settings.scheduler, model.schedulerConfig);
    this.scheduler.setTimesteps(settings.steps);
    checkTrainingRange(this.scheduler, settings.steps, settings.scheduler, model.schedulerConfig);
    this.generator = createGenerator(settings.noise, settings.seed);
  }

  get timesteps(): readonly number[] {
    return this.scheduler.timesteps;
  }

  get embeddings(): Tensor<'float32'> {
    return this.promptEmbeds;
  }

  /** Encodes the prompt(s) and draws the initial latents. */
  async prepare(): Promise<void> {
    this.promptEmbeds = await this.encodePrompts();
    this.emit(TEXT.promptEmbeds, this.promptEmbeds);
    const { height, width } = this.settings;
    const f = this.model.vaeScaleFactor;
    const initial = this.generator.randn([1, this.model.latentChannels, height / f, width / f]);
    this.emit(LATENTS.initial, initial);
    this.latents = scale(initial, this.scheduler.initNoiseSigma);
    this.emit(LATENTS.scaled, this.latents);
  }

  private async encodePrompts(): Promise<Tensor<'float32'>> {
    const cond = this.tokenize(this.settings.prompt, '--prompt');
    this.emit(TEXT.condIds, cond);
    const condEmbeds = await this.model.components.encodeText(cond);
    if (!this.guided) return condEmbeds;
    const uncond = this.tokenize(this.settings.negativePrompt, '--negative-prompt');
    this.emit(TEXT.uncondIds, uncond);
    const uncondEmbeds = await this.model.components.encodeText(uncond);
    return concat0([uncondEmbeds, condEmbeds]);
  }

  private tokenize(text: string, flag: string): Tensor<'int64'> {
    const encoded = this.model.tokenizer.encode(text);
    if (encoded.truncated) {
      this.observer.warning?.(`${flag} is longer than CLIP's 77 tokens (${encoded.tokenCount} tokens); it was truncated, as diffusers does`);
    }
    return int64([1, encoded.ids.length], encoded.ids);
  }

  /** One denoising step, free-running on this build's own latents. */
  async step(index: number): Promise<StepResult> {
    if (!this.promptEmbeds) throw new Error('Text2ImgRun.step called before prepare()');
    const t = this.scheduler.timesteps[index];
    if (t === undefined) throw new UsageError(`step ${index} is out of range (the run has ${this.scheduler.timesteps.length} U-Net steps)`);
    const batched = this.guided ? concat0([this.latents, this.latents]) : this.latents;
    const latentModelInput = this.scheduler.scaleModelInput(batched, t);
    const unet = await this.model.components.predictNoise(latentModelInput, t, this.promptEmbeds);
    const guided = applyGuidance(unet.noisePred, this.settings.guidanceScale, this.guided);
    this.latents = this.scheduler.step(guided.noisePred, t, this.latents, this.generator);
    const result: StepResult = { index, timestep: t, timestepFed: unet.timestepFed, latentModelInput, ...guided, latents: this.latents };
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
  }

  /** Decodes the current latents: VAE on latents / scaling_factor, then 8-bit RGB. */
  async finish(): Promise<FinalResult> {
    this.emit(FINAL.latents, this.latents);
    const decoded = await decode(this.model, this.latents);
    this.emit(FINAL.decoded, decoded);
    return { latents: this.latents, decoded, image: decodedToImage(decoded) };
  }

  async runAll(onStep?: (index: number, total: number) => void): Promise<FinalResult> {
    await this.prepare();
    // Loop over the scheduler's timesteps, as diffusers does: PNDM's PLMS runs steps + 1 U-Net calls.
    const total = this.scheduler.timesteps.length;
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
export async function decode(model: PipelineModel, latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
  const s = Math.fround(model.vaeScalingFactor);
  const input = makeTensor('float32', latents.dims, latents.data.map((x) => x / s));
  return model.components.decodeLatents(input);
}

function scale(t: Tensor<'float32'>, factor: number): Tensor<'float32'> {
  if (factor === 1) return makeTensor('float32', t.dims, t.data.slice());
  const f = Math.fround(factor);
  return makeTensor('float32', t.dims, t.data.map((x) => x * f));
}
