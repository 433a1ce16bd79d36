import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { terminalSummary } from '../report/terminal.ts';
import { metricsFor, syntheticReport } from '../report/testing/fixture.ts';
import { applyGates, applyOverrides, defaultThresholds, evaluateGates, loadThresholdsFile, parseOverride } from './index.ts';

describe('evaluateGates', () => {
  it('passes a clean, complete run', () => {
    const r = syntheticReport();
    const ev = evaluateGates(r, r.thresholds);
    expect(ev.verdict).toBe('pass');
    expect(ev.firstDivergentStep).toBeNull();
    expect(ev.gates.length).toBeGreaterThan(100);
    expect(ev.gates.every((g) => g.passed)).toBe(true);
    expect(ev.findings).toEqual([]);
  });

  it('finds the first divergent step and names mode, tensor, metric, value and threshold', () => {
    const r = syntheticReport({ divergeAt: 6 });
    const ev = evaluateGates(r, r.thresholds);
    expect(ev.verdict).toBe('fail');
    expect(ev.firstDivergentStep).toBe(6);
    const f = ev.findings.find((x) => x.kind === 'first-divergence')!;
    expect(f.step).toBe(6);
    expect(f.tensor).toBe('teacherForced.noisePred');
    expect(f.message).toMatch(/^First divergence at step 6 \(timestep \d+\): teacher-forced noisePred cosine = 0\.99875 \(needs >= 0\.9999\)/);
    expect(ev.gates.find((g) => g.id === 'step[6].teacherForced.noisePred.relL2')).toMatchObject({ actual: 0.05, threshold: 1e-3, passed: false });
    expect(ev.gates.filter((g) => !g.passed && g.step! < 6)).toEqual([]);
  });

  it('a failing check made before the steps (SDXL text_encoder_2, pooled embeddings, VAE encoder) is where the divergence starts', () => {
    const r = syntheticReport({ divergeAt: 3 });
    r.components.pooledEmbeds = metricsFor(5e-7, 2 * 32);
    r.components.textEncoder2 = metricsFor(2e-2, 2 * 77 * 32);
    r.components.vaeEncoder = metricsFor(3e-2, 8 * 8 * 8);
    const ev = evaluateGates(r, r.thresholds);
    const f = ev.findings.find((x) => x.kind === 'first-divergence')!;
    // Execution order: the text encoders before the VAE encoder, both before step 0.
    expect(f).toMatchObject({ component: 'textEncoder2', tensor: 'components.textEncoder2', step: 3 });
    expect(f.message).toMatch(/^First divergence in the text encoder 2, before the U-Net's steps \(on the reference's inputs\): component textEncoder2 cosine = .*; the steps first fail at step 3 \(timestep \d+\): teacher-forced noisePred/);
    expect(ev.firstDivergentStep).toBe(3);
    expect(ev.gates.find((g) => g.id === 'components.pooledEmbeds.relL2')?.passed).toBe(true);
    expect(ev.gates.find((g) => g.id === 'components.vaeEncoder.relL2')?.passed).toBe(false);
    const terminal = terminalSummary(applyGates(r));
    expect(terminal).toContain('first divergence in textEncoder2 (before step 0), first failing step 3');
    expect(terminal).toContain('also the text encoder 2 alone is off');
    const md = renderMarkdown(applyGates(r));
    expect(md).toContain('- first divergence: in the text encoder 2, before');
    expect(md).toMatch(/\| text encoder 2 \| \*\*0\.99980000\*\* \| \*\*0\.02\*\* \| .* \| \*\*FAIL\*\* \|/);
    expect(md).toMatch(/\| pooled text embeddings \| .* \| pass \|/);
    expect(md).toMatch(/\| VAE encoder \| .* \| \*\*FAIL\*\* \|/);
  });

  it('a failing VAE encoder with every step passing is still located, with no step', () => {
    const r = syntheticReport();
    r.components.vaeEncoder = metricsFor(3e-3, 8 * 8 * 8);
    const ev = evaluateGates(r, r.thresholds);
    expect(ev.verdict).toBe('fail');
    expect(ev.firstDivergentStep).toBeNull();
    const f = ev.findings.find((x) => x.kind === 'first-divergence')!;
    expect(f).toMatchObject({ component: 'vaeEncoder', tensor: 'components.vaeEncoder' });
    expect(f.step).toBeUndefined();
    expect(f.message).toContain('no step gate fails');
    expect(terminalSummary(applyGates(r))).toMatch(/diagnosis: the VAE encoder alone is off \(on the reference's inputs\): cos 0\.9999955\d*, relL2 0\.003/);
  });

  it('reports the first NaN on the candidate at the step it appeared, and fails its gate', () => {
    const r = syntheticReport({ nanAt: 4 });
    const ev = evaluateGates(r, r.thresholds);
    const f = ev.findings.find((x) => x.kind === 'first-nonfinite')!;
    expect(f).toMatchObject({ step: 4, tensor: 'freeRunning.noisePredText', severity: 'error' });
    expect(f.message).toContain('7 NaN');
    expect(ev.firstDivergentStep).toBe(4);
    expect(ev.gates.find((g) => g.id === 'step[4].freeRunning.noisePredText.nonFinite')?.passed).toBe(false);
  });

  it('fails an incomplete run even when every reached gate passes', () => {
    const r = syntheticReport({ complete: false });
    const ev = evaluateGates(r, r.thresholds);
    expect(ev.gates.every((g) => g.passed)).toBe(true);
    expect(ev.verdict).toBe('fail');
    expect(ev.findings.map((f) => f.message)).toContain('Run incomplete after 10 of 10 steps: candidate U-Net: session run failed');
  });

  it('treats bit-identical tensors as passing even with an undefined cosine', () => {
    const r = syntheticReport();
    r.components.vaeDecoder = { ...r.components.vaeDecoder!, cosine: NaN, maxAbs: 0 };
    expect(evaluateGates(r, r.thresholds).verdict).toBe('pass');
  });

  it('applyGates keeps engine findings and replaces its own', () => {
    const r = syntheticReport({ divergeAt: 2 });
    r.findings.push({ kind: 'signature', severity: 'warning', source: 'engine', message: 'timestep is int64 vs float32' });
    const once = applyGates(r);
    const twice = applyGates(once, applyOverrides(once.thresholds, [parseOverride('cosine=0.9'), parseOverride('relL2=0.5'), parseOverride('freeRunning.guidanceDelta.cosine=off'), parseOverride('freeRunning.guidanceDelta.relL2=2')]));
    expect(once.findings.filter((f) => f.kind === 'first-divergence')).toHaveLength(1);
    expect(twice.verdict).toBe('pass');
    expect(twice.findings).toEqual([r.findings[0]]);
    expect(twice.thresholds.teacherForced.noisePred.cosine).toBe(0.9);
  });
});

describe('threshold overrides', () => {
  it('sets a metric for all tensors, and specific keys win whatever the order', () => {
    const t = applyOverrides(defaultThresholds(), [
      parseOverride('teacherForced.noisePred.cosine=0.99995'),
      parseOverride('cosine=0.999'),
      parseOverride('final.image.psnr=30'),
      parseOverride('freeRunning.latents.relL2=0.05'),
      parseOverride('teacherForced.maxAbs=1e-4'),
    ]);
    expect(t.teacherForced.noisePred.cosine).toBe(0.99995);
    expect(t.teacherForced.noisePredText.cosine).toBe(0.999);
    expect(t.components.vaeDecoder.cosine).toBe(0.999);
    expect(t.final.image.psnr).toBe(30);
    expect(t.freeRunning.latents.relL2).toBe(0.05);
    expect(t.teacherForced.guidanceDelta.maxAbs).toBe(1e-4);
    expect(t.freeRunning.noisePred.maxAbs).toBeUndefined();
  });

  it('gates allclose.fraction and sets the element-wise tolerances per tensor (report 1.1)', () => {
    const t = applyOverrides(defaultThresholds(), [
      parseOverride('teacherForced.noisePred.allclose.fraction=0.01'),
      parseOverride('allclose.atol=1e-3'),
      parseOverride('freeRunning.latents.allclose.rtol=0.1'),
    ]);
    expect(t.teacherForced.noisePred['allclose.fraction']).toBe(0.01);
    expect(t.components.textEncoder['allclose.atol']).toBe(1e-3);
    expect(t.freeRunning.latents['allclose.rtol']).toBe(0.1);
    const r = syntheticReport();
    r.steps[2].teacherForced.noisePred = { ...r.steps[2].teacherForced.noisePred!, allclose: { atol: 1e-3, rtol: 1e-5, mismatched: 20, fraction: 0.02 } };
    const ev = evaluateGates(r, t);
    const gates = ev.gates.filter((g) => g.metric === 'allclose.fraction');
    // Only step 2 measured it (a 1.0 record has no allclose: no gate); tolerances are never gates.
    expect(gates.map((g) => [g.id, g.passed])).toEqual([['step[2].teacherForced.noisePred.allclose.fraction', false]]);
    expect(ev.gates.some((g) => g.metric.startsWith('allclose.') && g.metric !== 'allclose.fraction')).toBe(false);
    expect(ev.firstDivergentStep).toBe(2);
  });

  it('"off" removes a gate', () => {
    const r = syntheticReport({ divergeAt: 3 });
    const t = applyOverrides(r.thresholds, [parseOverride('teacherForced.cosine=off'), parseOverride('relL2=off')]);
    const ev = evaluateGates(r, t);
    expect(ev.gates.some((g) => g.metric === 'cosine' && g.scope === 'teacherForced')).toBe(false);
    expect(ev.firstDivergentStep).toBe(3); // free-running cosine still fails
  });

  it('rejects an unknown key, naming it and listing valid keys', () => {
    expect(() => parseOverride('teacherForced.noisepred.cosine=0.9')).toThrow(UsageError);
    expect(() => parseOverride('cosin=0.9')).toThrow(/unknown threshold key "cosin".*Valid keys:.*cosine.*teacherForced\.\{noisePred/);
    expect(() => parseOverride('final.image.cosine=0.9')).toThrow(/unknown threshold key/);
  });

  it('rejects a non-number value and a missing "="', () => {
    expect(() => parseOverride('cosine=high')).toThrow(/threshold "cosine" must be a number or "off", got "high"/);
    expect(() => parseOverride('cosine=')).toThrow(UsageError);
    expect(() => parseOverride('cosine')).toThrow(/expected KEY=VALUE/);
  });

  it('loads a thresholds file, nested or flat, naming the file on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-thr-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ teacherForced: { noisePred: { cosine: 0.99 } }, 'final.image.psnr': 35, sqnr: null }));
    const t = applyOverrides(defaultThresholds(), loadThresholdsFile(good));
    expect(t.teacherForced.noisePred.cosine).toBe(0.99);
    expect(t.final.image.psnr).toBe(35);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ teacherForced: { noisePred: { cosine: 'x' } } }));
    expect(() => loadThresholdsFile(bad)).toThrow(new RegExp(`${bad}: threshold "teacherForced.noisePred.cosine" must be a number`));
    writeFileSync(bad, JSON.stringify({ final: { image: { lpips: 0.1 } } }));
    expect(() => loadThresholdsFile(bad)).toThrow(/unknown threshold key "final.image.lpips"/);
  });
});
