/**
 * Suite gates: strings "<key> <op> <value>" (or "<key> off") mapped onto the
 * gates module's threshold overrides. The op must point the metric's way
 * (cosine/sqnr/psnr/ssim are bounded from below, errors from above), so a
 * gate can never be written that passes the wrong direction.
 */
import { UsageError } from '../errors.ts';
import { describeValidKeys, slotsForKey, type ThresholdOverride } from '../gates/index.ts';
import { isParameter, opFor } from '../gates/slots.ts';

const GATE = /^\s*(\S+)\s+(?:(>=|<=|>|<|==|=)\s*(\S+)|(off))\s*$/;

/** Parses one gate; `where` is "suites/x.yaml: gates[2]" for messages. */
export function parseGate(text: string, where: string): ThresholdOverride {
  const m = GATE.exec(text);
  if (!m) throw new UsageError(`${where}: "${text}" is not a gate: expected "<key> <op> <value>", e.g. "teacherForced.noisePred.cosine >= 0.9999", or "<key> off"`);
  const [, key, op, raw, off] = m;
  const slots = slotsForKey(key);
  if (slots.length === 0) throw new UsageError(`${where}: unknown gate key "${key}". Valid keys: ${describeValidKeys()}`);
  if (off) return { key, value: null, source: where };
  const metric = slots[0].metric;
  if (isParameter(metric)) return parameter(key, op, raw, text, where);
  const expected = opFor(metric);
  if (op !== expected) {
    const why = expected === '>=' ? 'higher is better' : 'it is an error that must stay small';
    throw new UsageError(`${where}: "${text}": ${metric} gates take "${expected}" (${why}), not "${op}"`);
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`${where}: "${text}": the bound must be a finite number, got "${raw}"`);
  return { key, value, source: where };
}

/** A setting of the element-wise check ("teacherForced.noisePred.allclose.atol = 1e-3"), not a bound. */
function parameter(key: string, op: string, raw: string, text: string, where: string): ThresholdOverride {
  if (op !== '=' && op !== '==') throw new UsageError(`${where}: "${text}": ${key} is a tolerance of the element-wise check, set with "=", not "${op}"`);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${where}: "${text}": a tolerance must be a finite number >= 0, got "${raw}"`);
  return { key, value, source: where };
}

export function parseGates(list: readonly string[], file: string): ThresholdOverride[] {
  return list.map((g, i) => parseGate(g, `${file}: gates[${i}]`));
}
