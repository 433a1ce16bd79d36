/**
 * `import-outputs`: another runtime's answers to exported inputs, turned into
 * a trace marked `"teacherForced": true` — each step's predictions are that
 * runtime's answer to the reference's own inputs at that step.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { containedFile } from '../util/safe-paths.ts';
import { applyGuidance } from '../pipeline/guidance.ts';
import { readNpy } from '../tensor/npy.ts';
import { type Tensor, concat0, sameDims, shapeString, toFloat32 } from '../tensor/tensor.ts';
import { FINAL, TEXT, stepName } from '../trace/names.ts';
import { TraceWriter } from '../trace/writer.ts';
import { LOCKSTEP_VERSION } from '../version.ts';
import { ACCEPTED_OUTPUT_DTYPES, type ExchangeCall, type ExchangeFile, type ExchangeManifest, readExchangeManifest } from './format.ts';

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
  const trace = new TraceWriter(opts.out, traceMeta(manifest, inputsDir, outputsDir), '--out');
  try {
    writeAnswers(trace, answers, manifest, inputsDir);
  } catch (err) {
    trace.abandon();
    throw err;
  }
  trace.commit();
  return { trace: trace.target, calls: answers.length };
}

function writeAnswers(trace: TraceWriter, answers: { call: ExchangeCall; out: Record<string, Tensor<'float32'>> }[], manifest: ExchangeManifest, inputsDir: string): void {
  const text: Partial<Record<'cond' | 'uncond', Tensor<'float32'>>> = {};
  for (const { call, out } of answers) {
    if (call.component === 'unet') putUnet(trace, call, out.out_sample, manifest, inputsDir);
    if (call.component === 'text_encoder') {
      text[call.prompt ?? 'cond'] = out.last_hidden_state;
      trace.put(call.prompt === 'uncond' ? TEXT.uncondIds : TEXT.condIds, readInput(call, 'input_ids', inputsDir));
    }
    if (call.component === 'vae_decoder') trace.put(FINAL.decoded, out.sample);
  }
  if (text.cond) trace.put(TEXT.promptEmbeds, text.uncond ? concat0([text.uncond, text.cond]) : text.cond);
}

function traceMeta(m: ExchangeManifest, inputsDir: string, outputsDir: string): Record<string, unknown> {
  return {
    producer: `lockstep ${LOCKSTEP_VERSION} import-outputs (answers in ${outputsDir})`,
    teacherForced: true,
    pipeline: m.pipeline,
    schedulerConfig: m.schedulerConfig,
    timesteps: m.timesteps,
    reference: m.reference,
    exchange: { inputs: inputsDir, outputs: outputsDir, components: m.components },
    // Without U-Net answers there are no step folders: the trace records part of a run.
    complete: m.components.includes('unet'),
  };
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

/** Each expected output of one call, checked against the manifest. */
function readAnswers(call: ExchangeCall, outputsDir: string): Record<string, Tensor<'float32'>> {
  return Object.fromEntries(Object.entries(call.outputs).map(([name, spec]) => [name, readAnswer(call, name, spec, outputsDir)]));
}

/**
 * One exported input, re-read from the inputs folder: it must still be inside it and hold what the
 * manifest says, since it goes into the trace as the reference's own input.
 */
function readInput(call: ExchangeCall, name: string, inputsDir: string): Tensor {
  const spec = call.inputs[name];
  if (!spec) throw new UsageError(`${join(inputsDir, 'manifest.json')}: ${call.role} has no input '${name}'`);
  const file = containedFile(inputsDir, spec.file, `${join(inputsDir, 'manifest.json')} (${call.role} input ${name})`);
  const t = readNpy(file);
  if (t.dtype !== spec.dtype || !sameDims(t.dims, spec.shape)) {
    throw new UsageError(`${file}: holds ${t.dtype}${shapeString(t.dims)}; the manifest says ${spec.dtype}${shapeString(spec.shape)} (${call.role} input ${name}); was it changed after export-inputs?`);
  }
  return t;
}

function readAnswer(call: ExchangeCall, name: string, spec: ExchangeFile, outputsDir: string): Tensor<'float32'> {
  const expected = `${call.component} ${name}, float32${shapeString(spec.shape)}, answering ${call.role}`;
  const file = containedFile(outputsDir, spec.file, `the exchange manifest (${call.role} output ${name})`, { optional: true });
  if (!existsSync(file)) throw new UsageError(`${file}: missing; expected the ${expected}`);
  const t = readNpy(file);
  if (!(ACCEPTED_OUTPUT_DTYPES as readonly string[]).includes(t.dtype)) {
    throw new UsageError(`${file}: holds ${t.dtype}${shapeString(t.dims)}; expected the ${expected} (float16/float64 also accepted)`);
  }
  if (!sameDims(t.dims, spec.shape)) throw new UsageError(`${file}: holds ${t.dtype}${shapeString(t.dims)}; expected the ${expected}`);
  return toFloat32(t);
}
