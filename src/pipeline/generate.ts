/** `lockstep generate`: one text-to-image run, optionally recorded as a trace. */
import { writeFileAtomic } from '../util/fs.ts';
import type { BackendOptions } from '../models/backend.ts';
import { TraceWriter } from '../trace/writer.ts';
import { FINAL, IMAGE } from '../trace/names.ts';
import { readFileSync } from 'node:fs';
import { LOCKSTEP_VERSION } from '../version.ts';
import { encodePng, startReading } from './image.ts';
import { type LoadedModel, loadPipelineModel } from './load.ts';
import type { PipelineSettings } from './settings.ts';
import { FAMILIES, type FamilyName } from './family.ts';
import { type FinalResult, PipelineRun } from './run.ts';

export interface GenerateOptions {
  model: string;
  settings: PipelineSettings;
  backend?: BackendOptions;
  /** Where to write the PNG; omit to keep the image only in the trace. */
  imageOut?: string;
  traceDir?: string;
  onStep?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  /** Called once the model is open (e.g. to read its signatures before it is released). */
  onLoaded?: (model: LoadedModel) => void;
  /** The settings with defaults resolved (e.g. the model's own scheduler). */
  onSettings?: (settings: PipelineSettings) => void;
}

export interface GenerateResult extends FinalResult {
  wallSeconds: number;
  ortSeconds: number;
  /** Inside ORT session creation, and releasing the text encoder and U-Net (the VAE is released after wallSeconds is taken). */
  ortSessionSeconds: number;
  ortCalls: number;
}

export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const start = performance.now();
  const image = startReading(opts.settings);
  const model = await loadPipelineModel(opts.model, opts.backend, opts.settings);
  opts.onLoaded?.(model);
  let trace: TraceWriter | undefined;
  let run: PipelineRun;
  try {
    run = new PipelineRun(model, opts.settings, { tensor: (name, t) => trace?.put(name, t), warning: opts.onWarning }, await image);
  } catch (err) {
    await model.onnx.release();
    throw err;
  }
  opts.onSettings?.(run.settings);
  if (opts.traceDir) trace = new TraceWriter(opts.traceDir, traceMeta(opts.model, run.settings, model.schedulerConfig));
  // The input image travels with the trace, so a trace is a complete reference for image-to-image.
  if (trace && run.settings.image) trace.putFile(IMAGE.inputPng, readFileSync(run.settings.image));
  try {
    // Each component's session is freed as soon as the run is done with it: the text encoder's weights
    // leave memory before the U-Net's activations arrive, the U-Net's before the VAE decodes.
    await run.prepare();
    // SDXL: where prompt_embeds splits between the two encoders, so a comparison against this trace can check each.
    if (trace && run.encoderWidths) trace.setMeta({ textEncoderWidths: [...run.encoderWidths] });
    for (const c of ['text_encoder', 'text_encoder_2', 'vae_encoder'] as const) await model.onnx.releaseComponent(c);
    const total = run.timesteps.length;
    for (let i = 0; i < total; i++) {
      await run.step(i);
      trace?.flush();
      opts.onStep?.(i + 1, total);
    }
    await model.onnx.releaseComponent('unet');
    const result = await run.finish();
    const png = encodePng(result.image);
    if (opts.imageOut) writeFileAtomic(opts.imageOut, png);
    if (trace) {
      trace.putFile(FINAL.image, png);
      trace.setMeta({ timesteps: [...run.timesteps], initNoiseSigma: run.scheduler.initNoiseSigma, complete: true });
      trace.commit();
    }
    const wallSeconds = (performance.now() - start) / 1000;
    const { clock } = model.onnx;
    return { ...result, wallSeconds, ortSeconds: clock.seconds, ortCalls: clock.calls, ortSessionSeconds: clock.sessionSeconds };
  } catch (err) {
    trace?.setMeta({ complete: false, error: String((err as Error).message ?? err) });
    trace?.abandon();
    if (trace && err instanceof Error) err.message += ` (partial trace left in ${trace.dir})`;
    throw err;
  } finally {
    await model.onnx.release();
  }
}

function traceMeta(modelDir: string, settings: PipelineSettings, schedulerConfig: Record<string, unknown>): Record<string, unknown> {
  return {
    producer: `lockstep ${LOCKSTEP_VERSION} (onnxruntime-node)`,
    pipeline: settings.image ? { ...settings, image: IMAGE.inputPng } : settings,
    pipelineClass: settings.image ? FAMILIES[settings.family as FamilyName]?.img2imgClass : FAMILIES[settings.family as FamilyName]?.pipelineClass,
    model: modelDir,
    schedulerConfig,
    complete: false,
  };
}
