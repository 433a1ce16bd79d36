import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { readNpy, writeNpy } from '../tensor/npy.ts';
import { type Tensor, concat0, float32, toFloat32 } from '../tensor/tensor.ts';
import { readExchangeManifest } from './format.ts';
import { runCli as cli } from '../testing/cli.ts';

const RUN = ['--prompt', 'a red fox', '--negative-prompt', 'blurry', '--seed', '3', '--steps', '3', '--height', '64', '--width', '64'];
let dir: string;
let ref: string;

/** Runs the CLI in-process; returns exit code and what it wrote to stderr. */

/** Answers every U-Net call with the reference's own predictions, [uncond; text]. */
function answerWithReference(inputs: string, outputs: string): void {
  for (const call of readExchangeManifest(join(inputs, 'manifest.json')).calls) {
    const step = join(ref, 'steps', String(call.step).padStart(3, '0'));
    const parts = ['noise_pred_uncond', 'noise_pred_text'].map((n) => readNpy(join(step, `${n}.npy`)) as Tensor<'float32'>);
    writeNpy(join(outputs, call.outputs.out_sample.file), concat0(parts));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-exchange-'));
  ref = join(dir, 'ref');
  const model = await ensureTinyModel(0);
  const r = await cli(['generate', '--model', model, '--out', join(dir, 'ref.png'), '--trace', ref, '--quiet', ...RUN]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export-inputs → answer → import-outputs → compare', () => {
  it('writes each step\'s exact U-Net inputs and a manifest of what to answer', async () => {
    const inputs = join(dir, 'in-unet');
    expect((await cli(['export-inputs', '--trace', ref, '--out', inputs])).code).toBe(0);
    const m = readExchangeManifest(join(inputs, 'manifest.json'));
    // One call per U-Net step the reference made (the tiny model's PNDM makes steps + 1).
    const unetSteps = JSON.parse(readFileSync(join(ref, 'manifest.json'), 'utf8')).timesteps.length;
    expect(m.calls.map((c) => c.step)).toEqual([...Array(unetSteps).keys()]);
    expect(m.calls[1].outputs.out_sample).toEqual({ file: 'steps/001/out_sample.npy', dtype: 'float32', shape: [2, 4, 8, 8] });
    const sample = readNpy(join(inputs, 'steps/001/sample.npy'));
    expect(Buffer.from(sample.data.buffer).equals(Buffer.from(readNpy(join(ref, 'steps/001/latent_model_input.npy')).data.buffer))).toBe(true);
    expect(readNpy(join(inputs, 'steps/001/timestep.npy')).dtype).toBe(readNpy(join(ref, 'steps/001/timestep.npy')).dtype);
    expect(readFileSync(join(inputs, 'README.md'), 'utf8')).toContain('import-outputs');
  });

  it('the reference answering itself is teacher-forced exact at every step', async () => {
    const inputs = join(dir, 'in-rt');
    const outputs = join(dir, 'out-rt');
    await cli(['export-inputs', '--trace', ref, '--out', inputs]);
    answerWithReference(inputs, outputs);
    const trace = join(dir, 'tf-rt');
    expect((await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', trace])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(trace, 'manifest.json'), 'utf8')).teacherForced).toBe(true);
    const report = join(dir, 'rep-rt');
    const r = await cli(['compare', '--reference', ref, '--candidate', trace, '--report', report, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.verdict).toBe('pass');
    expect(doc.steps).toHaveLength(JSON.parse(readFileSync(join(ref, 'manifest.json'), 'utf8')).timesteps.length);
    for (const s of doc.steps) {
      for (const t of ['noisePred', 'noisePredUncond', 'noisePredText']) {
        expect(s.teacherForced[t].maxAbs, `step ${s.index} ${t}`).toBe(0);
        expect(s.teacherForced[t].cosine).toBeCloseTo(1, 12);
      }
    }
  });

  it('a perturbed answer is caught at its step', async () => {
    const inputs = join(dir, 'in-bad');
    const outputs = join(dir, 'out-bad');
    await cli(['export-inputs', '--trace', ref, '--out', inputs]);
    answerWithReference(inputs, outputs);
    const f = join(outputs, 'steps/001/out_sample.npy');
    const t = readNpy(f) as Tensor<'float32'>;
    writeNpy(f, float32(t.dims, t.data.map((x, i) => (i % 7 === 0 ? x + 0.5 : x))));
    await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', join(dir, 'tf-bad')]);
    const r = await cli(['compare', '--reference', ref, '--candidate', join(dir, 'tf-bad'), '--report', join(dir, 'rep-bad'), '--quiet']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(readFileSync(join(dir, 'rep-bad', 'report.json'), 'utf8'));
    expect(doc.steps[0].teacherForced.noisePred.maxAbs).toBe(0);
    expect(doc.steps[1].teacherForced.noisePred.maxAbs).toBeGreaterThan(0.4);
  });

  it('text encoder and VAE calls round-trip too', async () => {
    const inputs = join(dir, 'in-all');
    const outputs = join(dir, 'out-all');
    expect((await cli(['export-inputs', '--trace', ref, '--out', inputs, '--component', 'text_encoder,vae_decoder'])).code).toBe(0);
    const m = readExchangeManifest(join(inputs, 'manifest.json'));
    expect(m.calls.map((c) => c.role)).toEqual(['text uncond', 'text cond', 'vae']);
    const embeds = readNpy(join(ref, 'text/prompt_embeds.npy')) as Tensor<'float32'>;
    const half = embeds.data.length / 2;
    writeNpy(join(outputs, 'text/uncond/last_hidden_state.npy'), float32([1, 77, embeds.dims[2]], embeds.data.slice(0, half)));
    writeNpy(join(outputs, 'text/cond/last_hidden_state.npy'), float32([1, 77, embeds.dims[2]], embeds.data.slice(half)));
    cpSync(join(ref, 'final/decoded.npy'), join(outputs, 'final/sample.npy'));
    const trace = join(dir, 'tf-all');
    expect((await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', trace])).code).toBe(0);
    const back = toFloat32(readNpy(join(trace, 'text/prompt_embeds.npy')));
    expect(Buffer.from(back.data.buffer).equals(Buffer.from(embeds.data.buffer))).toBe(true);
    const report = join(dir, 'rep-all');
    await cli(['compare', '--reference', ref, '--candidate', trace, '--report', report, '--quiet']);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.components.textEncoder.maxAbs).toBe(0);
    expect(doc.components.vaeDecoder.maxAbs).toBe(0);
  });
});

describe('import-outputs refuses bad answers, naming the file (exit 2)', () => {
  let inputs: string;
  beforeAll(async () => {
    inputs = join(dir, 'in-err');
    await cli(['export-inputs', '--trace', ref, '--out', inputs]);
  });

  it('a missing step', async () => {
    const outputs = join(dir, 'out-missing');
    answerWithReference(inputs, outputs);
    rmSync(join(outputs, 'steps/002/out_sample.npy'));
    const r = await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', join(dir, 'x1')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/steps\/002\/out_sample\.npy: missing; expected the unet out_sample, float32\[2,4,8,8\], answering step 2/);
  });

  it('a wrong shape', async () => {
    const outputs = join(dir, 'out-shape');
    answerWithReference(inputs, outputs);
    writeNpy(join(outputs, 'steps/001/out_sample.npy'), float32([1, 4, 8, 8]));
    const r = await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', join(dir, 'x2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/steps\/001\/out_sample\.npy: holds float32\[1,4,8,8\]; expected .*float32\[2,4,8,8\]/);
  });

  it('a wrong dtype', async () => {
    const outputs = join(dir, 'out-dtype');
    answerWithReference(inputs, outputs);
    writeNpy(join(outputs, 'steps/000/out_sample.npy'), { dtype: 'int32', dims: [2, 4, 8, 8], data: new Int32Array(512) });
    const r = await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', join(dir, 'x3')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/steps\/000\/out_sample\.npy: holds int32/);
  });

  it('a manifest written by exchange format 1.0 still imports', async () => {
    const old = join(dir, 'in-1.0');
    cpSync(inputs, old, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(old, 'manifest.json'), 'utf8'));
    writeFileSync(join(old, 'manifest.json'), JSON.stringify({ ...manifest, format: 'lockstep.exchange/1' }));
    const outputs = join(dir, 'out-1.0');
    answerWithReference(old, outputs);
    const r = await cli(['import-outputs', '--inputs', old, '--outputs', outputs, '--out', join(dir, 'tf-1.0')]);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(old, 'manifest.json'), JSON.stringify({ ...manifest, format: 'lockstep.exchange/2' }));
    const newer = await cli(['import-outputs', '--inputs', old, '--outputs', outputs, '--out', join(dir, 'tf-2')]);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(/in-1\.0\/manifest\.json: not a lockstep export-inputs manifest .*at 'format': expected "lockstep\.exchange\/1\.1" \(or an older lockstep\.exchange\/1\.x\)/);
  });

  it('an inputs folder that is not an export', async () => {
    mkdirSync(join(dir, 'not-export'), { recursive: true });
    const r = await cli(['import-outputs', '--inputs', join(dir, 'not-export'), '--outputs', dir, '--out', join(dir, 'x4')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not-export\/manifest\.json: cannot read/);
  });
});
