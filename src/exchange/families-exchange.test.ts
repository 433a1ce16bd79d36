/**
 * export-inputs carries the extra U-Net inputs of the families (LCM's
 * timestep_cond, SDXL's text_embeds and time_ids): a runtime that answers
 * each exported call with the family's ONNX U-Net reproduces diffusers'
 * recorded predictions — which it could not without them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { OnnxComponent } from '../models/component.ts';
import { readNpy } from '../tensor/npy.ts';
import { type Tensor, concat0, slice0, toFloat32 } from '../tensor/tensor.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { TraceReader } from '../trace/reader.ts';
import { relativeError } from '../testing/relative-error.ts';
import { exportInputs } from './export-inputs.ts';

describe.each([
  ['lcm', 'lcm_s2_g8.5', ['timestep_cond']],
  ['sdxl', 'euler_s4_negative', ['text_embeds', 'time_ids']],
] as const)('export-inputs of a %s trace (%s)', (family, trace, extras) => {
  it(`exports ${extras.join(', ')} with every U-Net call, and the ONNX U-Net answers them as diffusers did`, async () => {
    const dir = join(FAMILIES_REFERENCE, family);
    const reference = new TraceReader(join(dir, 'traces', trace));
    const out = mkdtempSync(join(tmpdir(), 'lockstep-family-export-'));
    const manifest = exportInputs({ trace: reference.dir, components: ['unet'], out });
    expect(manifest.calls).toHaveLength(reference.stepCount);
    const unet = await OnnxComponent.open('unet', join(dir, 'model', 'unet', 'model.onnx'), DEFAULT_BACKEND);
    try {
      for (const call of manifest.calls) {
        for (const name of extras) expect(Object.keys(call.inputs), name).toContain(name);
        const feeds: Record<string, Tensor> = {};
        for (const [name, f] of Object.entries(call.inputs)) feeds[name] = readNpy(join(out, f.file));
        const answer = toFloat32((await unet.run(feeds)).out_sample);
        const step = call.step!;
        const uncond = reference.step(step, 'noise_pred_uncond');
        const expected = uncond ? concat0([toFloat32(uncond), toFloat32(reference.step(step, 'noise_pred_text')!)]) : toFloat32(reference.step(step, 'noise_pred_text')!);
        expect(relativeError(expected, answer), `step ${step}`).toBeLessThanOrEqual(1e-5);
        if (uncond) expect(relativeError(uncond, slice0(answer, 0))).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await unet.release();
    }
  });
});
