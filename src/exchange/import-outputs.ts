/**
 * `import-outputs`: another runtime's answers to exported inputs, turned into
 * a trace marked `"teacherForced": true` — each step's predictions are that
 * runtime's answer to the reference's own inputs at that step.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { applyGuidance } from '../pipeline/guidance.ts';
import { type Tensor, shapeString } from '../tensor/tensor.ts';
import { FINAL, IMAGE, stepName } from '../trace/names.ts';
import { TraceWriter } from '../trace/writer.ts';
import { LOCKSTEP_VERSION } from '../version.ts';
import { type ExchangeCall, type ExchangeManifest, readExchangeManifest } from './format.ts';
import { type Answered, type ImportedText, importText } from './import-text.ts';
import { readAnswers, readInput } from './read-exchange.ts';

export interface ImportOptions {
  inputs: string;
  outputs: string;
  out: string;
}

export interface ImportResult {
  trace: string;
  calls: number;
}

export function importOutputs(opts: ImportOptions): ImportResult {
  const inputsDir = resolve(opts.inputs);
  const outputsDir = resolve(opts.outputs);
  const manifest = readExchangeManifest(join(inputsDir, 'manifest.json'));
  if (!existsSync(outputsDir)) throw new UsageError(`${opts.outputs}: outputs folder not found`);
  // Read and check every answer before writing anything, so a bad answer leaves no half trace.
  const answers = manifest.calls.map((call) => ({ call, out: readAnswers(call, outputsDir) }));
  const text = importText(answers, manifest, { inputs: inputsDir, outputs: outputsDir });
  const trace = new TraceWriter(opts.out, traceMeta(manifest, inputsDir, outputsDir, text), '--out');
  try {
    writeAnswers(trace, answers, text, manifest, inputsDir);
  } catch (err) {
    trace.abandon();
    throw err;
  }
  trace.commit();
  return { trace: trace.target, calls: answers.length };
}

function writeAnswers(trace: TraceWriter, answers: readonly Answered[], text: ImportedText, manifest: ExchangeManifest, inputsDir: string): void {
  for (const [name, t] of text.tensors) trace.put(name, t);
  for (const { call, out } of answers) {
    if (call.component === 'unet') putUnet(trace, call, out.out_sample, manifest, inputsDir);
    if (call.component === 'vae_encoder') {
      trace.put(IMAGE.input, readInput(call, 'sample', inputsDir));
      // The answer in the convention the reference recorded (export-inputs asked for that one).
      if (out.latent_parameters) trace.put(IMAGE.latentParameters, out.latent_parameters);
      if (out.latent_sample) trace.put(IMAGE.latentSample, out.latent_sample);
    }
    if (call.component === 'vae_decoder') trace.put(FINAL.decoded, out.sample);
  }
}

function traceMeta(m: ExchangeManifest, inputsDir: string, outputsDir: string, text: ImportedText): Record<string, unknown> {
  return {
    producer: `lockstep ${LOCKSTEP_VERSION} import-outputs (answers in ${outputsDir})`,
    teacherForced: true,
    pipeline: imageFromReference(m),
    schedulerConfig: m.schedulerConfig,
    timesteps: m.timesteps,
    reference: m.reference,
    exchange: { inputs: inputsDir, outputs: outputsDir, components: m.components },
    // SDXL: where prompt_embeds split between the two encoders, which only the answers say (trace 1.1).
    ...(text.widths ? { textEncoderWidths: [text.widths.text_encoder, text.widths.text_encoder_2] } : {}),
    // Without U-Net answers there are no step folders: the trace records part of a run.
    complete: m.components.includes('unet'),
  };
}

/** A trace names its image-to-image input relative to itself; this trace holds none, so it names the reference's. */
function imageFromReference(m: ExchangeManifest): Record<string, unknown> {
  const image = m.pipeline.image;
  return typeof image === 'string' && !isAbsolute(image) ? { ...m.pipeline, image: resolve(m.reference, image) } : m.pipeline;
}

function putUnet(trace: TraceWriter, call: ExchangeCall, outSample: Tensor<'float32'>, m: ExchangeManifest, inputsDir: string): void {
  const step = call.step ?? 0;
  if (m.guided && outSample.dims[0] % 2 !== 0) {
    throw new UsageError(`${call.outputs.out_sample.file}: guided run, so the batch must be [uncond; cond] (even), got ${shapeString(outSample.dims)}`);
  }
  // The same guidance arithmetic as the live pipeline, so a bit-exact answer gives a bit-exact noise_pred.
  const guided = applyGuidance(outSample, m.guidanceScale, m.guided);
  trace.put(stepName(step, 'timestep'), readInput(call, 'timestep', inputsDir));
  if (guided.noisePredUncond) trace.put(stepName(step, 'noise_pred_uncond'), guided.noisePredUncond);
  trace.put(stepName(step, 'noise_pred_text'), guided.noisePredText);
  trace.put(stepName(step, 'noise_pred'), guided.noisePred);
}
