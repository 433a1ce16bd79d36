import { describe, expect, it } from 'vitest';
import { applyGates } from '../gates/index.ts';
import { terminalSummary } from './terminal.ts';
import { metricsFor, syntheticReport } from './testing/fixture.ts';

describe('terminal summary', () => {
  it('per-step error: names the failing metric, where, the worst figures and the report path', () => {
    const text = terminalSummary(applyGates(syntheticReport({ divergeAt: 6 })), '/r/report.html');
    expect(text).toMatch(/^verdict: FAIL: \d+ of \d+ gates failed, first divergence at step 6 \(unet\)\n/);
    expect(text).toContain('  failed: teacherForced.noisePred at 4 steps from step 6: cosine 0.99875 at step 6 (bound >= 0.9999), relL2 0.05 at step 6 (bound <= 0.001)');
    expect(text).toContain('worst teacher-forced:  noisePred cosine 0.99875000 at step 6, relL2 0.05 at step 6');
    expect(text).toContain('worst free-running:    latents cosine 0.98720000 at step 6, relL2 0.16 at step 6');
    expect(text).toContain("diagnosis: per-step error: the candidate's U-Net is off on the reference's own inputs from step 6 (noisePred cosine 0.99875, bound >= 0.9999); free-running it reaches latents relL2 0.16 at step 9");
    expect(text).toContain('image: PSNR 52.30 dB, SSIM 0.9991 (bounds PSNR ≥ 40 dB, SSIM ≥ 0.98)');
    expect(text.trimEnd().split('\n').at(-1)).toBe('report: /r/report.html');
  });

  it('accumulated drift: small per-step error, free-running gates failing', () => {
    const r = syntheticReport();
    r.steps.forEach((s, i) => {
      s.freeRunning.latents = metricsFor(0.004 * (i + 1));
      s.freeRunning.noisePred = metricsFor(0.003 * (i + 1));
    });
    const text = terminalSummary(applyGates(r));
    expect(text).toContain('failed: freeRunning.latents at 5 steps from step 5: relL2 0.04 at step 9 (bound <= 0.02)');
    expect(text).toContain('diagnosis: per-step error is small (teacher-forced cos ≥ 1.00000000, relL2 ≤ 1.900e-6) but drift accumulates to latents relL2 0.04 by step 9');
  });

  it('one component alone: the text encoder off while every U-Net step passes', () => {
    const r = syntheticReport();
    r.components.textEncoder = metricsFor(0.46);
    const text = terminalSummary(applyGates(r));
    expect(text).toContain('failed: components.textEncoder: cosine 0.8942 (bound >= 0.9999), relL2 0.46 (bound <= 0.001)');
    expect(text).toContain("diagnosis: the text encoder alone is off (on the reference's inputs): cos 0.89420000, relL2 0.46");
  });

  it('a pass says so with the largest figures', () => {
    const text = terminalSummary(applyGates(syntheticReport()));
    expect(text).toMatch(/^verdict: PASS: 0 of \d+ gates failed\n/);
    expect(text).toContain('diagnosis: every gate passed; per-step error ≤ relL2 1.900e-6, free-running latents relL2 1.600e-5 at step 9');
  });
});
