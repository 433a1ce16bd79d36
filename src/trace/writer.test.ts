import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32 } from '../tensor/tensor.ts';
import { TraceReader } from './reader.ts';
import { TraceWriter } from './writer.ts';

const meta = { pipeline: { steps: 1 } };

describe('TraceWriter', () => {
  it('writes beside the target and swaps the finished trace into place', () => {
    const target = join(mkdtempSync(join(tmpdir(), 'lockstep-tw-')), 'trace');
    const first = new TraceWriter(target, meta);
    first.put('steps/000/latents', float32([2], [1, 2]));
    first.put('steps/001/latents', float32([2], [3, 4]));
    first.commit();
    expect(new TraceReader(target).stepCount).toBe(2);

    const second = new TraceWriter(target, meta);
    second.put('steps/000/latents', float32([2], [5, 6]));
    // Until commit, the older trace is untouched and whole.
    expect(new TraceReader(target).stepCount).toBe(2);
    second.commit();
    const reader = new TraceReader(target);
    expect(reader.stepCount).toBe(1); // no stale step folder from the longer run
    expect(Array.from(reader.require('steps/000/latents').data as Float32Array)).toEqual([5, 6]);
    expect(readdirSync(join(target, '..')).sort()).toEqual(['trace']);
  });

  it('an unfinished run leaves its partial trace in <dir>.partial and the old trace intact', () => {
    const target = join(mkdtempSync(join(tmpdir(), 'lockstep-tw-')), 'trace');
    const done = new TraceWriter(target, meta);
    done.put('steps/000/latents', float32([1], [1]));
    done.commit();
    const before = readFileSync(join(target, 'steps/000/latents.npy'));
    const failing = new TraceWriter(target, meta);
    failing.put('steps/000/latents', float32([1], [9]));
    failing.setMeta({ complete: false });
    failing.flush();
    expect(readFileSync(join(target, 'steps/000/latents.npy'))).toEqual(before);
    expect(existsSync(join(`${target}.partial`, 'manifest.json'))).toBe(true);
    expect(new TraceReader(`${target}.partial`).manifest.complete).toBe(false);
  });

  it("keeps a scheduler config's non-finite numbers as Python writes them (DPM-Solver's lambda_min_clipped: -Infinity)", () => {
    const target = join(mkdtempSync(join(tmpdir(), 'lockstep-tw-')), 'trace');
    const w = new TraceWriter(target, { ...meta, schedulerConfig: { _class_name: 'DPMSolverMultistepScheduler', lambda_min_clipped: -Infinity, other: NaN } });
    w.put('steps/000/latents', float32([1], [1]));
    w.commit();
    const text = readFileSync(join(target, 'manifest.json'), 'utf8');
    expect(text).toContain('"lambda_min_clipped": -Infinity');
    expect(text).toContain('"other": NaN');
    const config = new TraceReader(target).manifest.schedulerConfig as Record<string, number>;
    expect(config.lambda_min_clipped).toBe(-Infinity);
    expect(Number.isNaN(config.other)).toBe(true);
  });
});
