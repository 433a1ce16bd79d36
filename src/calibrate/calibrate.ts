/**
 * `lockstep calibrate`: the reference against itself under harmless backend
 * changes (graph optimization level, intra-op threads), each through the
 * lockstep engine; the worst metric per tensor over all changes is the noise
 * floor, and thresholds are a multiple of it (see thresholds.ts).
 *
 * float64-vs-float32 accumulation in the guidance/scheduler arithmetic is not
 * measured: the schedulers compute in float32 as torch does, with no switch,
 * and forking them for this was out of scope.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultThresholds } from '../gates/index.ts';
import { runLockstep } from '../lockstep/engine.ts';
import { type BackendOptions, describeBackend } from '../models/backend.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { type FloorMeasurement, type Floors, floorFromReport, mergeFloors } from './floor.ts';
import { type CalibrationRule, DEFAULT_RULE, type NestedThresholds, thresholdsFromFloors } from './thresholds.ts';

export interface HarmlessChange {
  name: string;
  why: string;
  reference: BackendOptions;
  candidate: BackendOptions;
}

/** The changes that must not matter, each relative to the base backend. */
export function harmlessChanges(base: BackendOptions): HarmlessChange[] {
  const at = (o: Partial<BackendOptions>): BackendOptions => ({ ...base, ...o });
  return [
    { name: 'opt-disabled-vs-extended', why: 'graph optimization level disabled vs extended', reference: at({ graphOptimizationLevel: 'extended' }), candidate: at({ graphOptimizationLevel: 'disabled' }) },
    { name: 'opt-extended-vs-all', why: 'graph optimization level extended vs all (layout rewrites, fusions)', reference: at({ graphOptimizationLevel: 'extended' }), candidate: at({ graphOptimizationLevel: 'all' }) },
    { name: 'threads-1-vs-2', why: '1 vs 2 intra-op threads', reference: at({ intraOpThreads: 1 }), candidate: at({ intraOpThreads: 2 }) },
  ];
}

export interface ModeFloor extends FloorMeasurement {
  name: string;
  why: string;
  reference: string;
  candidate: string;
}

export interface CalibrationDocument {
  thresholds: NestedThresholds;
  calibration: {
    model: string;
    settings: PipelineSettings;
    rule: CalibrationRule & { formula: string };
    floors: Floors;
    modes: ModeFloor[];
    notMeasured: string[];
  };
}

export interface CalibrateOptions {
  model: string;
  settings: PipelineSettings;
  backend: BackendOptions;
  rule?: CalibrationRule;
  changes?: HarmlessChange[];
  /** Where the per-change lockstep reports go; a temporary folder (removed) when absent. */
  workDir?: string;
  onChange?: (done: number, total: number, name: string) => void;
}

export async function calibrate(opts: CalibrateOptions): Promise<CalibrationDocument> {
  const rule = opts.rule ?? DEFAULT_RULE;
  const changes = opts.changes ?? harmlessChanges(opts.backend);
  const work = opts.workDir ?? mkdtempSync(join(tmpdir(), 'lockstep-calibrate-'));
  const modes: ModeFloor[] = [];
  let settings = opts.settings;
  try {
    for (const [i, c] of changes.entries()) {
      const report = await runLockstep({
        reference: { path: opts.model, backend: c.reference },
        candidate: { path: opts.model, backend: c.candidate },
        settings: opts.settings,
        thresholds: defaultThresholds(),
        reportDir: join(work, c.name),
      });
      settings = report.pipeline as PipelineSettings;
      modes.push({ name: c.name, why: c.why, reference: describeBackend(c.reference), candidate: describeBackend(c.candidate), ...floorFromReport(report) });
      opts.onChange?.(i + 1, changes.length, c.name);
    }
  } finally {
    if (!opts.workDir) rmSync(work, { recursive: true, force: true });
  }
  const floors = modes.reduce<Floors>((acc, m) => mergeFloors(acc, m.floors), {});
  return {
    thresholds: thresholdsFromFloors(floors, rule),
    calibration: {
      model: opts.model,
      settings,
      rule: { ...rule, formula: 'relL2 <= max(factor*floor.relL2, epsRelL2); cosine >= 1 - max(factor*(1-floor.cosine), epsCosine)' },
      floors,
      modes,
      notMeasured: ['float64 vs float32 accumulation in guidance/scheduler arithmetic (the schedulers compute in float32 as torch does; no switch)'],
    },
  };
}

/** The file `compare --thresholds` reads: the nested bounds at top level, plus the `calibration` record. */
export function calibrationFileContent(doc: CalibrationDocument): Record<string, unknown> {
  return { ...doc.thresholds, calibration: doc.calibration };
}
