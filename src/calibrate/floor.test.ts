/**
 * The family component checks (report 1.2) are calibratable like the others:
 * their floors are measured, turned into bounds, and the thresholds file that
 * results is read back with every key valid.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOverrides, defaultThresholds, loadThresholdsFile } from '../gates/index.ts';
import { metricsFor, syntheticReport } from '../report/testing/fixture.ts';
import { floorFromReport } from './floor.ts';
import { thresholdsFromFloors } from './thresholds.ts';

describe('floorFromReport', () => {
  it('measures textEncoder2, pooledEmbeds and vaeEncoder, and their calibrated bounds load as thresholds', () => {
    const r = syntheticReport();
    r.components.textEncoder2 = metricsFor(3e-7);
    r.components.pooledEmbeds = metricsFor(4e-7);
    r.components.vaeEncoder = metricsFor(8e-7);
    const { floors } = floorFromReport(r);
    expect(floors['components.vaeEncoder'].relL2).toBe(8e-7);
    expect(floors['components.textEncoder2'].relL2).toBe(3e-7);
    const nested = thresholdsFromFloors(floors);
    expect(nested.components.vaeEncoder.relL2).toBeCloseTo(8e-6, 15);
    expect(nested.components.pooledEmbeds.relL2).toBeCloseTo(4e-6, 15);
    const file = join(mkdtempSync(join(tmpdir(), 'lockstep-floor-')), 'thresholds.json');
    writeFileSync(file, JSON.stringify(nested));
    const t = applyOverrides(defaultThresholds(), loadThresholdsFile(file));
    expect(t.components.vaeEncoder.relL2).toBeCloseTo(8e-6, 15);
    expect(t.components.textEncoder2.relL2).toBeCloseTo(3e-6, 15);
  });

  it('leaves out checks a run did not make (null)', () => {
    const { floors } = floorFromReport(syntheticReport());
    expect(Object.keys(floors).filter((k) => k.startsWith('components.'))).toEqual(['components.textEncoder', 'components.vaeDecoder']);
  });
});
