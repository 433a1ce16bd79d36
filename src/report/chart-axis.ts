/**
 * Log axes that read at a glance, shared by the report's and localize's
 * charts: the range snapped to whole decades (at least two, so there are
 * always two labels), labels like 1e-6 (with 2e-6 and 5e-6 on short
 * ranges), and values that a log axis cannot show (exact 0, NaN, ±Infinity)
 * kept apart so they can be marked as what they are.
 */

export interface LogRange {
  min: number;
  max: number;
}

/** Decade-aligned range covering the positive finite values (and any bound lines); 1e-8..1 when there are none. */
export function logRange(values: Iterable<number>): LogRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === Infinity) return { min: 1e-8, max: 1 };
  let a = Math.floor(Math.log10(lo) + 1e-9);
  let b = Math.ceil(Math.log10(hi) - 1e-9);
  if (b - a < 2) {
    a -= 1;
    b = Math.max(b, a + 2);
  }
  return { min: 10 ** a, max: 10 ** b };
}

/** Tick label: every decade; also 2× and 5× when the axis spans few decades; '' hides the rest. */
export function logTickLabel(range: LogRange): (value: number | string) => string {
  const decades = Math.round(Math.log10(range.max / range.min));
  return (value) => {
    const v = Number(value);
    const exp = Math.floor(Math.log10(v) + 1e-9);
    const mantissa = Math.round(v / 10 ** exp);
    const exact = Math.abs(v / 10 ** exp - mantissa) < 1e-6;
    if (!exact) return '';
    if (mantissa === 1) return `1e${exp}`;
    return decades <= 3 && (mantissa === 2 || mantissa === 5) ? `${mantissa}e${exp}` : '';
  };
}

/** How a value goes on a log axis: plotted, or marked as exactly zero or non-finite. */
export type Placed = { kind: 'value'; y: number } | { kind: 'zero' } | { kind: 'nonfinite' };

export function place(v: number): Placed {
  if (!Number.isFinite(v)) return { kind: 'nonfinite' };
  if (v <= 0) return { kind: 'zero' };
  return { kind: 'value', y: v };
}
