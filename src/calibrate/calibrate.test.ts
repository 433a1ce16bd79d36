import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { loadModel, saveModel } from '../forge/onnx-io.ts';
import { loadThresholdsFile } from '../gates/index.ts';
import { thresholdsFromFloors } from './thresholds.ts';
import { runCli as cli } from '../testing/cli.ts';

const { onnx } = onnxProto;
const RUN = ['--prompt', 'a lighthouse at dusk', '--seed', '11', '--steps', '3', '--height', '64', '--width', '64'];
const dir = mkdtempSync(join(tmpdir(), 'lockstep-calibrate-'));
const thresholds = join(dir, 'thresholds.json');
let model: string;


/**
 * fault:groupnorm-eps made here (the variant forge had not landed): a copy of
 * the model whose U-Net GroupNorms (InstanceNormalization) use epsilon 1e-2.
 */
function groupNormEpsFault(src: string, out: string): string {
  cpSync(src, out, { recursive: true });
  const file = join(out, 'unet', 'model.onnx');
  const m = loadModel(file);
  let touched = 0;
  for (const n of m.graph!.node!) {
    if (n.opType !== 'InstanceNormalization') continue;
    n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== 'epsilon'), onnx.AttributeProto.create({ name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1e-2 })];
    touched++;
  }
  expect(touched).toBeGreaterThan(0);
  saveModel(m, file);
  return out;
}

beforeAll(async () => {
  model = await ensureTinyModel(0);
  const r = await cli(['calibrate', '--model', model, '--out', thresholds, '--factor', '10', '--quiet', ...RUN]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('thresholdsFromFloors', () => {
  it('is K × floor, with ε where the floor is bit-exact', () => {
    const t = thresholdsFromFloors(
      { 'teacherForced.noisePred': { cosine: 1 - 1e-9, relL2: 2e-5, maxAbs: 1 }, 'components.textEncoder': { cosine: 1, relL2: 0, maxAbs: 0 } },
      { factor: 10, epsRelL2: 1e-6, epsCosine: 5e-13 },
    );
    expect(t.teacherForced.noisePred.relL2).toBeCloseTo(2e-4, 15);
    expect(1 - t.teacherForced.noisePred.cosine).toBeCloseTo(1e-8, 15);
    expect(t.components.textEncoder).toEqual({ relL2: 1e-6, cosine: 1 - 5e-13 });
  });
});

describe('lockstep calibrate', () => {
  it('writes a thresholds file loadThresholdsFile reads, with the measured floors', () => {
    const doc = JSON.parse(readFileSync(thresholds, 'utf8'));
    expect(doc.calibration.modes.map((m: { name: string }) => m.name)).toEqual(['opt-disabled-vs-extended', 'opt-extended-vs-all', 'threads-1-vs-2']);
    const floor = doc.calibration.floors['teacherForced.noisePred'];
    expect(floor.relL2).toBeGreaterThan(0); // opt level all rewrites the convolutions: not bit-exact
    expect(doc.teacherForced.noisePred.relL2).toBeCloseTo(10 * floor.relL2, 15);
    const keys = loadThresholdsFile(thresholds).map((o) => o.key);
    expect(keys).toContain('teacherForced.noisePred.relL2');
    expect(keys.some((k) => k.startsWith('calibration'))).toBe(false);
  });

  it.each([
    ['--cand-opt-level', 'disabled'],
    ['--cand-opt-level', 'all'],
    ['--cand-threads', '2'],
  ])('the model passes against itself under %s %s with the calibrated thresholds', async (flag, value) => {
    const report = join(dir, `pass-${value}`);
    const extra = flag === '--cand-threads' ? ['--ref-threads', '1'] : [];
    const r = await cli(['compare', '--reference', model, '--candidate', model, flag, value, ...extra, '--thresholds', thresholds, '--report', report, '--quiet', ...RUN]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a groupnorm-eps fault fails them', async () => {
    const faulty = groupNormEpsFault(model, join(dir, 'fault-groupnorm-eps'));
    const report = join(dir, 'fault');
    const r = await cli(['compare', '--reference', model, '--candidate', faulty, '--thresholds', thresholds, '--report', report, '--quiet', ...RUN]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.firstDivergentStep).toBe(0);
    const failed = doc.gates.filter((g: { passed: boolean }) => !g.passed).map((g: { id: string }) => g.id);
    expect(failed).toContain('step[0].teacherForced.noisePred.relL2');
  });
});
