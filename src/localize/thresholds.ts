/**
 * When a compared tensor counts as diverged. Defaults: cosine ≥ 0.9999 and
 * relL2 ≤ 1e-2 (docs/localize.md says why); any NaN/Inf on the candidate side
 * that the reference does not have also fails.
 */
import { UsageError } from '../errors.ts';
import type { MetricSet } from '../metrics/index.ts';

export interface LocalizeThresholds {
  /** Minimum cosine similarity. */
  cosine?: number;
  /** Maximum ‖cand − ref‖ / ‖ref‖. */
  relL2?: number;
  /** Maximum |cand − ref|. */
  maxAbs?: number;
}

export const DEFAULT_LOCALIZE_THRESHOLDS: LocalizeThresholds = { cosine: 0.9999, relL2: 1e-2 };

const KEYS = ['cosine', 'relL2', 'maxAbs'] as const;

/** `--threshold KEY=VALUE` entries over the defaults. */
export function parseThresholds(entries: readonly string[], base = DEFAULT_LOCALIZE_THRESHOLDS): LocalizeThresholds {
  const out: LocalizeThresholds = { ...base };
  for (const e of entries) {
    const m = /^([A-Za-z0-9]+)=(.+)$/.exec(e.trim());
    const key = m?.[1] as (typeof KEYS)[number] | undefined;
    const value = m ? Number(m[2]) : NaN;
    if (!m || !key || !KEYS.includes(key)) throw new UsageError(`--threshold ${e}: expected KEY=VALUE with KEY one of ${KEYS.join(', ')}`);
    if (!Number.isFinite(value)) throw new UsageError(`--threshold ${e}: '${m[2]}' is not a number`);
    out[key] = value;
  }
  return out;
}

/** The reasons a comparison fails, empty when it passes. */
export function failures(m: MetricSet, t: LocalizeThresholds): string[] {
  const why: string[] = [];
  if (m.nanCount.candidate > m.nanCount.reference || m.infCount.candidate > m.infCount.reference) why.push('non-finite values');
  if (t.cosine !== undefined && !(m.cosine >= t.cosine)) why.push(`cosine ${m.cosine} < ${t.cosine}`);
  if (t.relL2 !== undefined && !(m.relL2 <= t.relL2)) why.push(`relL2 ${m.relL2} > ${t.relL2}`);
  if (t.maxAbs !== undefined && !(m.maxAbs <= t.maxAbs)) why.push(`maxAbs ${m.maxAbs} > ${t.maxAbs}`);
  return why;
}
