import { describe, expect, it } from 'vitest';
import { glibcCosf, glibcLogf, glibcSinf } from './glibc-f32.ts';

const f = Math.fround;

function ulpDistance(a: number, b: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat32(0, a);
  view.setFloat32(4, b);
  const ordered = (bits: number) => (bits < 0 ? -(bits & 0x7fffffff) : bits);
  return Math.abs(ordered(view.getInt32(0)) - ordered(view.getInt32(4)));
}

/** Sweeps float32 inputs in [lo, hi) with a stride that visits every table interval and quadrant. */
function sweep(lo: number, hi: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => f(lo + ((hi - lo) * (i + 0.5)) / count));
}

// Exactness against torch is tested through the scalar_path reference files
// (torch-cpu.test.ts); these check the functions' own contract.
describe('glibc float32 libm model', () => {
  it('stays within glibc’s documented error (< 1 ulp of the true value) and is not simply correctly rounded', () => {
    const cases: Array<[string, (x: number) => number, (x: number) => number, number[]]> = [
      ['logf', glibcLogf, Math.log, sweep(2 ** -24, 1, 50000)],
      ['sinf', glibcSinf, Math.sin, sweep(0, 2 * Math.PI, 50000)],
      ['cosf', glibcCosf, Math.cos, sweep(0, 2 * Math.PI, 50000)],
    ];
    for (const [name, model, exact, xs] of cases) {
      let differs = 0;
      for (const x of xs) {
        const cr = f(exact(x));
        const d = ulpDistance(model(x), cr);
        expect(d, `${name}(${x})`).toBeLessThanOrEqual(1);
        differs += d;
      }
      expect(differs, `${name} should differ from correctly rounded somewhere`).toBeGreaterThan(0);
    }
  });

  it('handles the special inputs glibc special-cases', () => {
    expect(glibcLogf(1)).toBe(0);
    expect(glibcCosf(0)).toBe(1);
    expect(glibcSinf(0)).toBe(0);
    expect(glibcSinf(f(2 ** -13))).toBe(f(2 ** -13)); // below 2^-12 sinf returns its argument
    expect(glibcCosf(f(2 ** -13))).toBe(1);
    expect(glibcSinf(f(-Math.PI / 2))).toBe(-1);
  });

  it('refuses arguments beyond its fast range reduction', () => {
    expect(() => glibcSinf(200)).toThrow(RangeError);
  });
});
