/**
 * `export-inputs`: the exact inputs a reference trace gave each component
 * call, one folder per call, plus the manifest saying what to answer.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { type Tensor, int64, makeTensor } from '../tensor/tensor.ts';
import { writeNpy } from '../tensor/npy.ts';
import { COND, FINAL, TEXT, stepDir } from '../trace/names.ts';
import { UNET_EXTRA_INPUTS } from '../models/sd-model.ts';

const COND_DIR = COND.timestepCond.split('/')[0];
import { TraceReader } from '../trace/reader.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.ts';
import { ACCEPTED_OUTPUT_DTYPES, EXCHANGE_FORMAT, type ExchangeCall, type ExchangeComponent, type ExchangeManifest } from './format.ts';
import { exchangeReadme } from './readme.ts';

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
  mkdirSync(out, { recursive: true });
  const writer = new CallWriter(out);
  const guidanceScale = reader.manifest.pipeline.guidanceScale ?? 1;
  const guided = reader.has(TEXT.uncondIds) || guidanceScale > 1;
  for (const component of opts.components) {
    if (component === 'unet') exportUnet(reader, writer);
    if (component === 'text_encoder') exportTextEncoder(reader, writer, guided);
    if (component === 'vae_decoder') exportVae(reader, writer);
  }
  const manifest: ExchangeManifest = {
    format: EXCHANGE_FORMAT,
    reference: reader.dir,
    components: opts.components,
    pipeline: reader.manifest.pipeline,
    guided,
    guidanceScale,
    timesteps: reader.timesteps().slice(0, reader.stepCount),
    schedulerConfig: reader.manifest.schedulerConfig,
    acceptedOutputDtypes: [...ACCEPTED_OUTPUT_DTYPES],
    calls: writer.calls,
  };
  writeJsonAtomic(join(out, 'manifest.json'), manifest);
  writeFileAtomic(join(out, 'README.md'), exchangeReadme(manifest));
  return manifest;
}

class CallWriter {
  readonly calls: ExchangeCall[] = [];
  constructor(private readonly root: string) {}

  add(call: Omit<ExchangeCall, 'inputs' | 'outputs'>, dir: string, inputs: Record<string, Tensor>, outputs: Record<string, { dims: number[] }>): void {
    const files: ExchangeCall['inputs'] = {};
    for (const [name, t] of Object.entries(inputs)) {
      const file = `${dir}/${name}.npy`;
      writeNpy(join(this.root, file), t);
      files[name] = { file, dtype: t.dtype, shape: [...t.dims] };
    }
    const answers: ExchangeCall['outputs'] = {};
    for (const [name, o] of Object.entries(outputs)) answers[name] = { file: `${dir}/${name}.npy`, dtype: 'float32', shape: o.dims };
    this.calls.push({ ...call, inputs: files, outputs: answers });
  }
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

function exportTextEncoder(reader: TraceReader, writer: CallWriter, guided: boolean): void {
  const hidden = reader.get(TEXT.promptEmbeds)?.dims.at(-1);
  if (hidden === undefined) throw new UsageError(`${reader.dir}: trace has no ${TEXT.promptEmbeds}.npy, needed for the text encoder's output shape`);
  const prompts = guided ? (['uncond', 'cond'] as const) : (['cond'] as const);
  for (const prompt of prompts) {
    const ids = need(reader, prompt === 'cond' ? TEXT.condIds : TEXT.uncondIds, 'the text encoder input input_ids');
    writer.add(
      { component: 'text_encoder', role: `text ${prompt}`, prompt },
      `text/${prompt}`,
      { input_ids: ids },
      { last_hidden_state: { dims: [ids.dims[0], ids.dims[1], hidden] } },
    );
  }
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

function need(reader: TraceReader, name: string, what: string): Tensor {
  const t = reader.get(name);
  if (!t) throw new UsageError(`${join(reader.dir, `${name}.npy`)}: missing; it is ${what}`);
  return t;
}

/** Float inputs go out as float32, as the pipeline feeds them. */
function needFloat(reader: TraceReader, name: string, what: string): Tensor<'float32'> {
  const t = need(reader, name, what);
  if (t.dtype !== 'float32') throw new UsageError(`${join(reader.dir, `${name}.npy`)}: expected float32 (${what}), the trace holds ${t.dtype}`);
  return t as Tensor<'float32'>;
}
