/**
 * The few numpy routines diffusers uses in `set_timesteps`, with numpy's own
 * float64 arithmetic and rounding (np.round rounds half to even).
 */

/** np.round / np.rint: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; numpy rounds it to the even neighbour.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.linspace(start, stop, num, endpoint): y[i] = i*step + start, last = stop exactly. */
export function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const step = (stop - start) / div;
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** np.arange(start, stop, step) for float or integer steps: start + i*delta. */
export function arange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => start + i * delta);
}

/** np.interp(x, arange(len(fp)), fp) for x inside [0, len-1]; float64 like numpy's C loop. */
export function interpOnIndex(x: readonly number[], fp: ArrayLike<number>): number[] {
  const last = fp.length - 1;
  return x.map((xv) => {
    if (xv <= 0) return fp[0];
    if (xv >= last) return fp[last];
    const j = Math.floor(xv);
    const slope = fp[j + 1] - fp[j]; // divided by (j+1 - j) = 1
    return slope * (xv - j) + fp[j];
  });
}
