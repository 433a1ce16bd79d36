/**
 * Checks shared by the tests that hold lockstep against diffusers-made data: a `generate` run
 * reproducing a recorded diffusers trace, a comparison against a recorded trace with its own
 * settings, and the stored torch input/output pairs of single components.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { defaultThresholds } from '../gates/index.ts';
import { recordedSettings } from '../lockstep/builds.ts';
import { runLockstep } from '../lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { generate } from '../pipeline/generate.ts';
import { readPng } from '../pipeline/image.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import type { ReportDocument } from '../report/schema.ts';
import { readNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { TraceReader } from '../trace/reader.ts';
import { relativeError } from './relative-error.ts';
import { createScheduler, loadSchedulerConfig } from '../schedulers/index.ts';
import { stringifyPythonJson } from '../util/json.ts';

export interface ReproduceOptions {
  /** The model folder `generate` runs. */
  model: string;
  /** The diffusers trace to reproduce. */
  reference: string;
  /** Image-to-image: the input image the trace was made from. */
  image?: string;
  /** Where this run's image and trace go. */
  out: string;
  /** At least this many float tensors must have been compared (a trace that lost its tensors must fail). */
  minCompared: number;
}

/**
 * `generate` with the trace's recorded settings reproduces it: the same timesteps, token ids and fed
 * timesteps, every other recorded tensor within 1e-5 of max(1, max|ref|) (guided noise predictions
 * within that times the guidance scale), pixels within ±1.
 */
export async function expectGenerateReproduces(o: ReproduceOptions): Promise<void> {
  const reference = new TraceReader(o.reference);
  const recorded = reference.manifest.pipeline as PipelineSettings;
  const settings: PipelineSettings = { ...recorded, negativePrompt: recorded.negativePrompt ?? '' };
  if (o.image !== undefined) settings.image = o.image;
  await generate({ model: o.model, settings, imageOut: join(o.out, 'image.png'), traceDir: join(o.out, 'trace') });
  const ours = new TraceReader(join(o.out, 'trace'));
  expect(ours.timesteps()).toEqual(reference.manifest.timesteps);
  let compared = 0;
  for (const file of Object.keys(reference.manifest.files)) {
    const tensorName = file.replace(/\.npy$/, '');
    const expected = reference.require(tensorName);
    const actual = ours.get(tensorName);
    expect(actual, `lockstep did not record ${tensorName}`).toBeDefined();
    if (tensorName.endsWith('timestep') || tensorName.includes('_ids')) {
      // The values must agree; the dtype is what the ONNX model declares (int64), not the scheduler's.
      expect(Array.from(actual!.data as ArrayLike<unknown>, Number), tensorName).toEqual(Array.from(expected.data as ArrayLike<unknown>, Number));
      continue;
    }
    const guided = /noise_pred$/.test(tensorName) && reference.has(tensorName.replace(/noise_pred$/, 'noise_pred_uncond'));
    expect(relativeError(expected, actual!), tensorName).toBeLessThanOrEqual(1e-5 * (guided ? recorded.guidanceScale : 1));
    compared++;
  }
  expect(compared).toBeGreaterThanOrEqual(o.minCompared);
  const [want, got] = await Promise.all([readPng(join(reference.dir, 'final/image.png')), readPng(join(o.out, 'image.png'))]);
  expect([got.width, got.height]).toEqual([want.width, want.height]);
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(want.data[i] - got.data[i]));
  expect(worst).toBeLessThanOrEqual(1);
}

/**
 * The model folder to reproduce a trace with: the folder itself when the scheduler lockstep builds from the
 * folder's scheduler_config.json (as diffusers' from_config does) is configured as the trace's was, or else a
 * copy in `tmp` whose scheduler_config.json is the trace's own (a run made with from_config overrides, e.g.
 * PNDM with skip_prk_steps as SD 1.5 ships it, where the folder holds a DDIM config).
 */
export function modelForTrace(model: string, reference: string, tmp: string): string {
  const { manifest } = new TraceReader(reference);
  const recorded = manifest.schedulerConfig as Record<string, unknown>;
  const scheduler = (manifest.pipeline as PipelineSettings).scheduler;
  const fromFolder = createScheduler(scheduler, loadSchedulerConfig(join(model, 'scheduler', 'scheduler_config.json'))).config;
  const differs = Object.keys(fromFolder).some((k) => !k.startsWith('_') && k in recorded && JSON.stringify(recorded[k]) !== JSON.stringify(fromFolder[k]));
  if (!differs) return model;
  const copy = join(tmp, 'model');
  cpSync(model, copy, { recursive: true });
  writeFileSync(join(copy, 'scheduler', 'scheduler_config.json'), stringifyPythonJson({ ...recorded, _class_name: scheduler }));
  return copy;
}

/** `compare` of a recorded trace (its own settings; an absent negative prompt is '') against a candidate, default gates. */
export function compareWithRecorded(reference: string, candidate: string, reportDir: string): Promise<ReportDocument> {
  const settings = recordedSettings(reference) as PipelineSettings;
  return runLockstep({
    reference: { path: reference, backend: DEFAULT_BACKEND },
    candidate: { path: candidate, backend: DEFAULT_BACKEND },
    settings: { ...settings, negativePrompt: settings.negativePrompt ?? '' },
    thresholds: defaultThresholds(),
    reportDir,
  });
}

/** A stored torch call of one component: `in.<name>.npy` inputs and `out.<name>.npy` outputs, by name. */
export function readTorchCheck(dir: string): { inputs: Record<string, Tensor>; outputs: Record<string, Tensor> } {
  const read = (prefix: string) =>
    Object.fromEntries(
      readdirSync(dir)
        .filter((n) => n.startsWith(prefix) && n.endsWith('.npy'))
        .map((f) => [f.slice(prefix.length, -4), readNpy(join(dir, f))]),
    );
  return { inputs: read('in.'), outputs: read('out.') };
}

/**
 * An onnxruntime-node session answers a stored torch call: the same input and output names, every
 * output within 1e-5 of max(1, max|torch|). `script` is named in the failure (what regenerates the data).
 */
export async function expectSessionMatchesTorch(session: ort.InferenceSession, dir: string, script: string): Promise<void> {
  const torch = readTorchCheck(dir);
  const feeds = Object.fromEntries(Object.entries(torch.inputs).map(([n, t]) => [n, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims as number[])]));
  expect(Object.keys(feeds).sort()).toEqual([...session.inputNames].sort());
  const out = await session.run(feeds);
  expect(Object.keys(torch.outputs).sort()).toEqual([...session.outputNames].sort());
  for (const [name, expected] of Object.entries(torch.outputs)) {
    const actual = out[name];
    expect(actual.dims, name).toEqual(expected.dims);
    const err = relativeError(expected, { dtype: 'float32', dims: [...actual.dims], data: actual.data as Float32Array } as Tensor);
    expect(err, `${name} (regenerate with ${script} if the forge changed on purpose)`).toBeLessThanOrEqual(1e-5);
  }
}
