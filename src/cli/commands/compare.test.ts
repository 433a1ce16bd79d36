/**
 * The acceptance run of the lockstep engine, through the CLI: diffusers' own
 * PyTorch run of the tiny pipeline (a recorded trace) as reference, the ONNX
 * export run live as candidate.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_DIR, TINY_SD_REFERENCE } from '../../testing/paths.ts';
import { runCli } from '../../testing/cli.ts';

const TRACE = join(REFERENCE_DIR, 'traces', 'ddim_s10_seed42_g7.5_128x128');

describe('lockstep compare', () => {
  it('diffusers trace vs the ONNX tiny-sd: passes with cosine ≥ 0.99999 at every step in both modes', async () => {
    const reportDir = join(mkdtempSync(join(tmpdir(), 'lockstep-cli-')), 'report');
    const { code } = await runCli(['compare', '--reference', TRACE, '--candidate', TINY_SD_REFERENCE, '--report', reportDir, '--quiet']);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    expect(report.verdict).toBe('pass');
    expect(report.pipeline.steps).toBe(10); // settings came from the trace's manifest
    expect(report.steps).toHaveLength(10);
    for (const step of report.steps) {
      expect(step.teacherForced.noisePred.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(step.freeRunning.noisePred.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(step.freeRunning.latents.cosine).toBeGreaterThanOrEqual(0.99999);
    }
    for (const file of ['report.md', 'report.html', 'images/reference.png', 'images/candidate.png']) {
      expect(existsSync(join(reportDir, file)), file).toBe(true);
    }
  });

  it('--cand-deterministic asks ORT for deterministic kernels and is recorded with the build', async () => {
    const reportDir = join(mkdtempSync(join(tmpdir(), 'lockstep-cli-')), 'report');
    const { code } = await runCli(['compare', '--reference', TRACE, '--candidate', TINY_SD_REFERENCE, '--cand-deterministic', '--report', reportDir, '--quiet']);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    expect(report.builds.candidate.backend.deterministic).toBe(true);
  });

  it('exits 1 when a gate fails and 2 when a build cannot be opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    const { code: strict, stdout } = await runCli([
      'compare', '--reference', TRACE, '--candidate', TINY_SD_REFERENCE,
      '--threshold', 'teacherForced.noisePred.maxAbs=1e-12', '--report', join(dir, 'strict'), '--quiet',
    ]);
    expect(strict).toBe(1);
    // The terminal alone says which metric failed, where, and what kind of problem it is.
    expect(stdout).toMatch(/^verdict: FAIL: \d+ of \d+ gates failed, first divergence at step 0 \(unet\)\n/);
    expect(stdout).toMatch(/failed: teacherForced\.noisePred at 10 steps from step 0: maxAbs \S+ at step \d \(bound <= 1\.000e-12\)/);
    expect(stdout).toMatch(/diagnosis: per-step error: the candidate's U-Net is off on the reference's own inputs from step 0/);
    expect(stdout).toMatch(/image: PSNR .* dB, SSIM /);
    expect(stdout).toContain(`report: ${join(dir, 'strict')}/report.html`);
    const { code: missing } = await runCli(['compare', '--reference', TRACE, '--candidate', join(dir, 'nope'), '--report', join(dir, 'x'), '--quiet']);
    expect(missing).toBe(2);
  });

  it('warns (stderr and a report finding) when two traces were recorded with different settings, naming the keys', async () => {
    const traces = join(REFERENCE_DIR, 'schedulers');
    const reportDir = join(mkdtempSync(join(tmpdir(), 'lockstep-cli-')), 'report');
    const { stderr } = await runCli(['compare', '--reference', join(traces, 'ddim_steps10_seed42'), '--candidate', join(traces, 'euler_steps10_seed7'), '--report', reportDir, '--quiet']);
    expect(stderr).toMatch(/warning: the two sides' recorded settings differ in scheduler, seed, .*timesteps/);
    const report = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8'));
    const finding = report.findings.find((f: { component?: string }) => f.component === 'pipeline');
    expect(finding.severity).toBe('warning');
    expect(finding.message).toContain('seed (reference 42, candidate 7)');
  });
});

describe('builtin: models on generate and compare', () => {
  it('generate --model builtin:tiny?preset=sd2 and compare --reference builtin:tiny --candidate builtin:tiny?seed=1 run the forged folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lockstep-cli-builtin-'));
    const run = ['--prompt', 'a cube', '--seed', '1', '--steps', '1', '--height', '64', '--width', '64', '--quiet'];
    const gen = await runCli(['generate', '--model', 'builtin:tiny?preset=sd2', '--out', join(root, 'a.png'), ...run]);
    expect(gen.code, gen.stderr).toBe(0);
    expect(existsSync(join(root, 'a.png'))).toBe(true);
    const cmp = await runCli(['compare', '--reference', 'builtin:tiny', '--candidate', 'builtin:tiny?seed=1', '--report', join(root, 'r'), ...run]);
    expect(cmp.code, cmp.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(root, 'r', 'report.json'), 'utf8'));
    expect(report.builds.reference.path).toMatch(/tiny-seed0-v\d+$/);
    expect(report.builds.candidate.path).toMatch(/tiny-seed1-v\d+$/);
    const bad = await runCli(['compare', '--reference', 'builtin:nope', '--candidate', 'builtin:tiny', '--report', join(root, 'r2'), ...run]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--reference: unknown builtin "builtin:nope"/);
  });
});
