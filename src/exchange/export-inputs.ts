/**
 * `export-inputs`: the exact inputs a reference trace gave each component
 * call, one folder per call, plus the manifest saying what to answer.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { type Tensor, int64, makeTensor } from '../tensor/tensor.ts';
import { COND, FINAL, IMAGE, TEXT, stepDir } from '../trace/names.ts';
import { UNET_EXTRA_INPUTS } from '../models/sd-model.ts';
import { TraceReader } from '../trace/reader.ts';
import { writeFileAtomic, writePythonJsonAtomic } from '../util/fs.ts';
import { checkReplaceable } from '../util/safe-paths.ts';
import { CallWriter, needFloat } from './call-writer.ts';
import { exportTextEncoder } from './export-text.ts';
import { ACCEPTED_OUTPUT_DTYPES, EXCHANGE_FORMAT, type ExchangeComponent, type ExchangeManifest } from './format.ts';
import { exchangeReadme } from './readme.ts';

const COND_DIR = COND.timestepCond.split('/')[0];

export interface ExportOptions {
  trace: string;
  components: ExchangeComponent[];
  out: string;
}

/** SD 1.x/2.x `vae.config.scaling_factor`, used when the trace does not record its own. */
export const DEFAULT_VAE_SCALING_FACTOR = 0.18215;

export function exportInputs(opts: ExportOptions): ExchangeManifest {
  const reader = new TraceReader(opts.trace);
  const out = resolve(opts.out);
  // A folder of the user's own is not written into; an earlier export is replaced only once this one is whole.
  checkReplaceable(out, 'manifest.json', '--out');
  const partial = `${out}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const manifest = writeExport(reader, opts.components, partial);
    replaceFolder(partial, out);
    return manifest;
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

function writeExport(reader: TraceReader, components: ExchangeComponent[], dir: string): ExchangeManifest {
  const writer = new CallWriter(dir);
  const guidanceScale = reader.manifest.pipeline.guidanceScale ?? 1;
  const guided = recordedGuidance(reader, guidanceScale);
  for (const component of components) {
    if (component === 'unet') exportUnet(reader, writer);
    if (component === 'text_encoder' || component === 'text_encoder_2') exportTextEncoder(reader, writer, guided, component);
    if (component === 'vae_encoder') exportVaeEncoder(reader, writer);
    if (component === 'vae_decoder') exportVae(reader, writer);
  }
  const manifest: ExchangeManifest = {
    format: EXCHANGE_FORMAT,
    reference: reader.dir,
    components,
    pipeline: reader.manifest.pipeline,
    guided,
    guidanceScale,
    timesteps: reader.timesteps().slice(0, reader.stepCount),
    schedulerConfig: reader.manifest.schedulerConfig,
    acceptedOutputDtypes: [...ACCEPTED_OUTPUT_DTYPES],
    calls: writer.calls,
    ...(Object.keys(writer.context).length > 0 ? { context: writer.context } : {}),
    ...(writer.zeroNegative ? { zeroNegative: true } : {}),
  };
  writePythonJsonAtomic(join(dir, 'manifest.json'), manifest);
  writeFileAtomic(join(dir, 'README.md'), exchangeReadme(manifest));
  return manifest;
}

/** Moves a finished folder to `target`, replacing an older one only now. */
function replaceFolder(from: string, target: string): void {
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(from, target);
  rmSync(old, { recursive: true, force: true });
}

/**
 * Whether the reference ran classifier-free guidance, from what it recorded: negative ids, or a
 * [uncond; cond] batch of prompt embeddings (SDXL's zero negative has no ids). LCM's guidance is an
 * embedding (timestep_cond), not a second batch, whatever its scale.
 */
function recordedGuidance(reader: TraceReader, guidanceScale: number): boolean {
  if (reader.has(TEXT.uncondIds)) return true;
  const embeds = reader.get(TEXT.promptEmbeds);
  if (embeds) return embeds.dims[0] === 2;
  if (reader.has(COND.timestepCond) || reader.manifest.pipeline.family === 'lcm') return false;
  return guidanceScale > 1;
}

function exportUnet(reader: TraceReader, writer: CallWriter): void {
  const embeds = needFloat(reader, TEXT.promptEmbeds, 'the U-Net input encoder_hidden_states');
  if (reader.stepCount === 0) throw new UsageError(`${reader.dir}: trace has no step folders (steps/000 …) to export U-Net inputs from`);
  const timesteps = reader.timesteps();
  // Extra U-Net inputs (LCM's timestep_cond, SDXL's text_embeds/time_ids; trace 1.1) are constant over the run.
  const extras: Record<string, Tensor> = {};
  for (const name of UNET_EXTRA_INPUTS) {
    if (reader.has(`${COND_DIR}/${name}`)) extras[name] = needFloat(reader, `${COND_DIR}/${name}`, `the U-Net input ${name}`);
  }
  for (let i = 0; i < reader.stepCount; i++) {
    const sample = needFloat(reader, `${stepDir(i)}/latent_model_input`, 'the U-Net input sample');
    // The timestep goes out exactly as recorded (int64 for DDIM/PNDM, float32 for Euler); int64 when absent.
    const timestep = reader.step(i, 'timestep') ?? int64([1], [Math.round(timesteps[i])]);
    writer.add(
      { component: 'unet', role: `step ${i}`, step: i },
      stepDir(i),
      { sample, timestep, encoder_hidden_states: embeds, ...extras },
      { out_sample: { dims: [...sample.dims] } },
    );
  }
}

/**
 * Image-to-image: the preprocessed image → the encoder's output, in the convention the reference
 * recorded (latent_parameters = mean and log-variance; else an in-graph latent_sample).
 */
function exportVaeEncoder(reader: TraceReader, writer: CallWriter): void {
  if (!reader.has(IMAGE.input)) {
    throw new UsageError(`${join(reader.dir, `${IMAGE.input}.npy`)}: missing; the VAE encoder runs only in image-to-image, and its input is the preprocessed image this file records`);
  }
  const sample = needFloat(reader, IMAGE.input, 'the VAE encoder input sample');
  const recorded = reader.get(IMAGE.latentParameters) ? 'latent_parameters' : reader.get(IMAGE.latentSample) ? 'latent_sample' : null;
  if (!recorded) throw new UsageError(`${reader.dir}: trace has neither ${IMAGE.latentParameters}.npy nor ${IMAGE.latentSample}.npy, needed for the VAE encoder's output shape`);
  const dims = [...reader.get(recorded === 'latent_parameters' ? IMAGE.latentParameters : IMAGE.latentSample)!.dims];
  writer.add({ component: 'vae_encoder', role: 'image' }, 'image', { sample }, { [recorded]: { dims } });
}

function exportVae(reader: TraceReader, writer: CallWriter): void {
  const latentSample = reader.get('final/vae_input') ?? scaledLatents(reader);
  const decoded = reader.get(FINAL.decoded);
  const { height, width } = reader.manifest.pipeline;
  const dims = decoded ? [...decoded.dims] : [latentSample.dims[0], 3, height ?? 0, width ?? 0];
  if (dims.some((d) => !d)) throw new UsageError(`${reader.dir}: cannot tell the VAE output shape (no final/decoded.npy, no pipeline height/width)`);
  writer.add({ component: 'vae_decoder', role: 'vae' }, 'final', { latent_sample: latentSample }, { sample: { dims } });
}

/** latents / scaling_factor with the pipeline's float32 rounding (see pipeline/run.ts decode). */
function scaledLatents(reader: TraceReader): Tensor<'float32'> {
  const latents = needFloat(reader, FINAL.latents, 'the VAE decoder input');
  const recorded = reader.manifest.vaeScalingFactor;
  const s = Math.fround(typeof recorded === 'number' ? recorded : DEFAULT_VAE_SCALING_FACTOR);
  return makeTensor('float32', latents.dims, Float32Array.from(latents.data, (x) => x / s));
}
