/**
 * The noise floor: from a report of the reference against itself under a
 * harmless change, the worst value of each metric per tensor slot (over all
 * steps), plus the per-step worst for the record.
 */
import { COMPONENT_CHECKS, type MetricSet, type ReportDocument } from '../report/schema.ts';

/** The metrics calibration sets bounds for. */
export interface FloorValues {
  /** Lowest cosine seen. */
  cosine: number;
  /** Highest relative L2 seen. */
  relL2: number;
  /** Highest max |Δ| seen (recorded, not gated: it scales with the tensor). */
  maxAbs: number;
}

/** Keyed by threshold slot prefix, e.g. "teacherForced.noisePred", "components.vaeDecoder". */
export type Floors = Record<string, FloorValues>;

export interface StepFloor {
  step: number;
  /** Per tensor slot prefix: the floor at this step. */
  tensors: Floors;
}

export interface FloorMeasurement {
  floors: Floors;
  perStep: StepFloor[];
}

export function floorFromReport(report: ReportDocument): FloorMeasurement {
  const floors: Floors = {};
  const perStep: StepFloor[] = [];
  for (const s of report.steps) {
    const here: Floors = {};
    for (const scope of ['teacherForced', 'freeRunning'] as const) {
      for (const [tensor, m] of Object.entries(s[scope] ?? {})) addMetric(here, `${scope}.${tensor}`, m as MetricSet | null);
    }
    perStep.push({ step: s.index, tensors: here });
    mergeFloors(floors, here);
  }
  for (const c of COMPONENT_CHECKS) addMetric(floors, `components.${c}`, report.components[c]);
  addMetric(floors, 'final.latents', report.final.latents);
  addMetric(floors, 'final.decoded', report.final.decoded);
  return { floors, perStep };
}

/** Worst of both, into `into`. */
export function mergeFloors(into: Floors, from: Floors): Floors {
  for (const [key, v] of Object.entries(from)) worsen(into, key, v);
  return into;
}

function addMetric(floors: Floors, key: string, m: MetricSet | null | undefined): void {
  if (!m || !Number.isFinite(m.cosine) || !Number.isFinite(m.relL2)) return;
  worsen(floors, key, { cosine: m.cosine, relL2: m.relL2, maxAbs: m.maxAbs });
}

function worsen(floors: Floors, key: string, v: FloorValues): void {
  const cur = floors[key];
  floors[key] = cur
    ? { cosine: Math.min(cur.cosine, v.cosine), relL2: Math.max(cur.relL2, v.relL2), maxAbs: Math.max(cur.maxAbs, v.maxAbs) }
    : { ...v };
}
