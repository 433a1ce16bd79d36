import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readNpy } from '../tensor/npy.ts';
import { DPMSolverSinglestepScheduler, singlestepOrders } from './dpm-singlestep.ts';
import { COMPACT_RUNS_DIR, checkRun, readCompactManifest } from './testing/compact-run.ts';

describe('DPMSolverSinglestepScheduler quirks of diffusers 0.27.2', () => {
  it('lays out the orders as get_order_list does', () => {
    expect(singlestepOrders(10, 2, true)).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 1]);
    expect(singlestepOrders(11, 3, true)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2]);
    expect(singlestepOrders(9, 3, true)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 1]);
    expect(singlestepOrders(10, 2, false)).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('turns lower_order_final on in set_timesteps when the final sigma is zero, as diffusers registers it', () => {
    const s = new DPMSolverSinglestepScheduler({ lower_order_final: false });
    s.setTimesteps(10);
    expect(s.config.lower_order_final).toBe(true);
    const t = new DPMSolverSinglestepScheduler({ lower_order_final: false, final_sigmas_type: 'sigma_min' });
    t.setTimesteps(10);
    expect(t.config.lower_order_final).toBe(false);
  });

  it('ends order 3 over 11 steps at ±inf like diffusers (a second-order last group reaching sigma 0), element for element', () => {
    const run = 'single-order3_s11';
    const m = readCompactManifest(run);
    const ref = readNpy(join(COMPACT_RUNS_DIR, run, 'latents.npy'));
    const last = Array.from(ref.data as Float32Array).slice(-256);
    expect(last.every((v) => !Number.isFinite(v))).toBe(true);
    expect(m.steps).toBe(11);
    expect(checkRun(run).worstRelative).toBeLessThanOrEqual(1e-5);
  });
});
