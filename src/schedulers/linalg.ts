/**
 * torch.linalg.solve for the tiny float32 systems UniPC builds (2×2, 3×3):
 * LAPACK's getrf (partial pivoting, multipliers scaled by the pivot's
 * reciprocal) then getrs (unit-lower forward, upper back substitution,
 * column-oriented as the reference BLAS trsm). Every op rounds to float32.
 */
const f = Math.fround;

/** Solves A·x = b; A is row-major n×n. */
export function solveF32(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const m = a.map((row) => row.map(f));
  const rhs = b.map(f);
  for (let k = 0; k < n; k++) {
    // isamax: the first row with the largest |a[i][k]|.
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[p][k])) p = i;
    [m[k], m[p]] = [m[p], m[k]];
    [rhs[k], rhs[p]] = [rhs[p], rhs[k]];
    const inv = f(1 / m[k][k]);
    for (let i = k + 1; i < n; i++) {
      m[i][k] = f(m[i][k] * inv);
      for (let j = k + 1; j < n; j++) m[i][j] = f(m[i][j] - f(m[i][k] * m[k][j]));
    }
  }
  // Forward substitution with the unit lower factor, column by column.
  for (let k = 0; k < n; k++) for (let i = k + 1; i < n; i++) rhs[i] = f(rhs[i] - f(rhs[k] * m[i][k]));
  // Back substitution with the upper factor, column by column.
  for (let k = n - 1; k >= 0; k--) {
    rhs[k] = f(rhs[k] / m[k][k]);
    for (let i = 0; i < k; i++) rhs[i] = f(rhs[i] - f(rhs[k] * m[i][k]));
  }
  return rhs;
}
