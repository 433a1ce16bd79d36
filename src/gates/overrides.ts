/**
 * Threshold overrides as given on the command line (`--threshold KEY=VALUE`)
 * or in a thresholds JSON file. A key names one metric for all tensors
 * (`cosine`), one metric within a scope (`teacherForced.cosine`), or one
 * slot (`teacherForced.noisePred.cosine`, `final.image.psnr`). More specific
 * keys win over general ones regardless of order; among equally specific
 * keys the later wins (file first, then the command line). VALUE is a number,
 * or `off` to stop gating that slot.
 */
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';
import { IMAGE_METRICS, TENSOR_METRICS, TENSOR_PARAMETERS, type Thresholds } from '../report/schema.ts';
import { SCOPE_TENSORS, allSlots, keyParts, setBound, type Slot } from './slots.ts';

export interface ThresholdOverride {
  key: string;
  value: number | null;
  /** Where it came from, for error messages ("--threshold", a file path). */
  source: string;
}

const METRICS = [...TENSOR_METRICS, ...IMAGE_METRICS];
const SCOPES = Object.keys(SCOPE_TENSORS);

/** The slots a key addresses; empty when the key is unknown. */
export function slotsForKey(key: string): Slot[] {
  const parts = keyParts(key);
  const match = (s: Slot): boolean => {
    if (parts.length === 1) return s.metric === parts[0];
    if (parts.length === 2) return s.scope === parts[0] && s.metric === parts[1];
    return parts.length === 3 && s.scope === parts[0] && s.tensor === parts[1] && s.metric === parts[2];
  };
  return allSlots().filter(match);
}

/** A readable list of what keys are accepted, for error messages and docs. */
export function describeValidKeys(): string {
  const perScope = SCOPES.map((s) => `${s}.{${SCOPE_TENSORS[s as keyof typeof SCOPE_TENSORS].join(',')}}.<metric>`);
  return [
    `<metric> (all tensors) where <metric> is one of ${METRICS.join(', ')}`,
    `<scope>.<metric> where <scope> is one of ${SCOPES.join(', ')}`,
    ...perScope,
    '(image takes only psnr and ssim; the other tensors take all metrics but psnr and ssim)',
    `and the element-wise check's tolerances (settings, not gates): <scope>.<tensor>.{${TENSOR_PARAMETERS.join(',')}} or shorter keys as above`,
  ].join('; ');
}

export function parseOverride(text: string, source = '--threshold'): ThresholdOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`${source} ${text}: expected KEY=VALUE, e.g. teacherForced.noisePred.cosine=0.9999`);
  return checkedOverride(text.slice(0, eq).trim(), text.slice(eq + 1).trim(), source);
}

function checkedOverride(key: string, raw: unknown, source: string): ThresholdOverride {
  if (slotsForKey(key).length === 0) {
    throw new UsageError(`${source}: unknown threshold key "${key}". Valid keys: ${describeValidKeys()}`);
  }
  return { key, value: parseValue(key, raw, source), source };
}

function parseValue(key: string, raw: unknown, source: string): number | null {
  if (raw === null || raw === 'off') return null;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw !== '' ? Number(raw) : NaN;
  if (Number.isNaN(value)) {
    throw new UsageError(`${source}: threshold "${key}" must be a number or "off", got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads a thresholds file: nested like report.json's `thresholds`, or flat `{"KEY": value}`, or a mix; a top-level `calibration` block is ignored. */
export function loadThresholdsFile(path: string): ThresholdOverride[] {
  const json = readPythonJson(path);
  if (!isPlainObject(json)) throw new UsageError(`${path}: expected a JSON object of thresholds`);
  // `calibration` records how `lockstep calibrate` derived the bounds: metadata, not a threshold.
  const { calibration: _calibration, ...bounds } = json;
  return flatten(bounds, '').map(([key, value]) => checkedOverride(key, value, path));
}

function flatten(obj: Record<string, unknown>, prefix: string): Array<[string, unknown]> {
  return Object.entries(obj).flatMap(([k, v]): Array<[string, unknown]> => {
    const key = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) ? flatten(v, key) : [[key, v]];
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of `base` with the overrides applied, general keys first so specific ones win. */
export function applyOverrides(base: Thresholds, overrides: readonly ThresholdOverride[]): Thresholds {
  const out = structuredClone(base);
  const ordered = overrides
    .map((o, i) => ({ o, i }))
    .sort((a, b) => keyParts(a.o.key).length - keyParts(b.o.key).length || a.i - b.i);
  for (const { o } of ordered) {
    for (const slot of slotsForKey(o.key)) setBound(out, slot, o.value);
  }
  return out;
}
