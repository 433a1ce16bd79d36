/**
 * The per-family bench (bench/families.ts) runs the diffusers-built tiny models
 * under test/reference/families (and the forged presets): each case must point at a model folder of its
 * family and, for image-to-image, at an input image of the run's size, or the
 * bench fails after minutes instead of here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIFFUSERS_GROUP, FAMILY_SIZE, familyJob, type GenerateTimes, median, medians, pairedDifference } from '../bench/families.ts';
import { readModelLayout } from '../src/models/layout.ts';
import { readPng } from '../src/pipeline/image.ts';
import { REPO_ROOT } from '../src/testing/paths.ts';
import { openRevWorktree } from '../bench/rev-worktree.ts';

describe('bench: pipeline family cases', () => {
  it.each([DIFFUSERS_GROUP.baseline, ...DIFFUSERS_GROUP.cases].map((c) => [c.label, c] as const))('%s: its model folder and input image exist', async (_, c) => {
    const job = familyJob(c);
    const layout = readModelLayout(job.model);
    const family = c.label.split(' ')[0];
    const expected = { sd: 'StableDiffusionPipeline', sd2: 'StableDiffusionPipeline', turbo: 'StableDiffusionPipeline', lcm: 'LatentConsistencyModelPipeline', sdxl: 'StableDiffusionXLPipeline' }[family];
    expect(layout.modelIndex._class_name).toBe(expected);
    if (c.settings.image !== undefined) {
      expect(existsSync(c.settings.image)).toBe(true);
      const img = await readPng(c.settings.image);
      expect([img.width, img.height]).toEqual([FAMILY_SIZE, FAMILY_SIZE]);
      expect(layout.onnx.vae_encoder).toBeDefined();
    }
  });

  it('medians of odd and even counts; the ratio and overhead are per round, then the median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const m = medians([
      { wallSeconds: 2, ortSeconds: 0.5, ortSessionSeconds: 0.5, ortCalls: 7, peakRssBytes: 1 },
      { wallSeconds: 3, ortSeconds: 1, ortSessionSeconds: 1, ortCalls: 7, peakRssBytes: 3 },
      { wallSeconds: 10, ortSeconds: 1, ortSessionSeconds: 1, ortCalls: 7, peakRssBytes: 2 },
    ]);
    expect(m).toEqual({ wallSeconds: 3, ortSeconds: 1, ortSessionSeconds: 1, ortCalls: 7, ratio: 2, overheadSeconds: 1, peakRssBytes: 2 });
  });

  it('pairs each round of a family with the same round of SD 1.x: median difference and its standard error', () => {
    const run = (wallSeconds: number): GenerateTimes => ({ wallSeconds, ortSeconds: 0.5, ortSessionSeconds: 0.5, ortCalls: 7, peakRssBytes: 1 });
    // Ratios (wall / 1 s of ORT): baseline 1.10, 1.30, 1.20; family 1.12, 1.31, 1.50 → differences 0.02, 0.01, 0.30.
    const d = pairedDifference([run(1.12), run(1.31), run(1.5)], [run(1.1), run(1.3), run(1.2)]);
    expect(d.median).toBeCloseTo(0.02, 12);
    // MAD of (0, 0.01, 0.28) is 0.01: one stalled round does not widen the error.
    expect(d.standardError).toBeCloseTo((1.253 * 1.4826 * 0.01) / Math.sqrt(3), 12);
    expect(d.rounds).toBe(3);
    expect(() => pairedDifference([run(1)], [])).toThrow(/paired rounds/);
  });
});

describe('bench: SD 1.x at an earlier commit (bench/rev-worktree.ts)', () => {
  it('says why when the commit is not in the checkout, and leaves no worktree', () => {
    const r = openRevWorktree(REPO_ROOT, '0000000000000000000000000000000000000000');
    expect('unavailable' in r && r.unavailable).toMatch(/commit 0{40} is not in this checkout/);
  });

  it("runs that commit's generate in a worktree and reads its timings and peak RSS, then removes the worktree", () => {
    // HEAD stands in for the bench's commit: present in any clone, however shallow.
    const r = openRevWorktree(REPO_ROOT, 'HEAD');
    if ('unavailable' in r) throw new Error(r.unavailable);
    let times: GenerateTimes;
    try {
      times = r.generate(familyJob(DIFFUSERS_GROUP.baseline));
    } finally {
      r.close();
    }
    expect(times.ortCalls).toBe(7); // text encoder (prompt, negative prompt), 4 U-Net steps, VAE decoder
    expect(times.wallSeconds).toBeGreaterThan(times.ortSeconds + times.ortSessionSeconds);
    expect(times.peakRssBytes).toBeGreaterThan(50 * 2 ** 20);
    expect(existsSync(r.dir)).toBe(false);
    expect(spawnSync('git', ['worktree', 'list'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout).not.toContain(r.dir);
  }, 60_000);
});
