"""Expected error statistics for src/metrics/error-stats.test.ts, computed with numpy alone.

Writes test/reference/error-stats/<case>.{reference,candidate}.npy and expected.json:
per case, numpy.quantile (default method 'linear') of |candidate - reference| in float64 over
the pairs where both sides are finite, numpy.isclose(candidate, reference, rtol, atol) on float64
copies (equal_nan=False) for the mismatch count, and per channel (axis 1 of NCHW) cosine and
relative L2 over the finite pairs, the worst channel being the largest relL2 (first on ties).

Run: python3 scripts/reference/error-stats.py   (numpy only; deterministic)
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'reference', 'error-stats')
LEVELS = {'p50': 0.5, 'p90': 0.9, 'p99': 0.99, 'p999': 0.999}
TOLERANCES = [{'atol': 1e-5, 'rtol': 1e-5}, {'atol': 1e-3, 'rtol': 1e-2}, {'atol': 0.0, 'rtol': 0.0}]


def stats(a, b, atol, rtol):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    finite = np.isfinite(a64) & np.isfinite(b64)
    d = np.abs(b64 - a64)[finite]
    q = {k: float(np.quantile(d, v)) if d.size else 0.0 for k, v in LEVELS.items()}
    close = np.isclose(b64, a64, rtol=rtol, atol=atol)
    mismatched = int(np.count_nonzero(~close))
    out = {
        'absErrQuantiles': q,
        'allclose': {'atol': atol, 'rtol': rtol, 'mismatched': mismatched, 'fraction': mismatched / a.size},
    }
    if a.ndim == 4:
        worst = None
        for c in range(a.shape[1]):
            x, y, m = a64[:, c], b64[:, c], finite[:, c]
            x, y = x[m], y[m]
            aa, bb, ab, sq = float(np.sum(x * x)), float(np.sum(y * y)), float(np.sum(x * y)), float(np.sum((x - y) ** 2))
            rel = 0.0 if sq == 0 else (float('inf') if aa == 0 else float(np.sqrt(sq / aa)))
            cos = 1.0 if sq == 0 else (1.0 if aa == 0 and bb == 0 else (0.0 if aa == 0 or bb == 0 else float(np.clip(ab / (np.sqrt(aa) * np.sqrt(bb)), -1, 1))))
            if worst is None or rel > worst['relL2']:
                worst = {'index': c, 'cosine': cos, 'relL2': rel}
        out['worstChannel'] = worst
    return out


def cases():
    rng = np.random.RandomState(14)
    ref = rng.randn(2, 4, 8, 8).astype(np.float32)
    cand = (ref + rng.randn(2, 4, 8, 8).astype(np.float32) * np.float32(1e-4)).astype(np.float32)
    cand[:, 2] += np.float32(3e-3) * rng.randn(2, 8, 8).astype(np.float32)  # channel 2 is the worst
    cand[0, 1, 0, 0] = np.nan
    ref[1, 3, 7, 7] = np.inf
    cand[1, 3, 7, 7] = np.inf  # equal infinities: close, not compared
    ref[0, 0, 5, 5] = -np.inf
    yield 'nchw_float32', ref, cand
    ref16 = rng.randn(3, 5).astype(np.float16)
    cand16 = (ref16.astype(np.float32) * np.float32(1.001)).astype(np.float16)
    yield 'matrix_float16', ref16, cand16
    # Few values with ties: interpolation between equal and distinct neighbours.
    yield 'ties_float32', np.zeros(7, np.float32), np.array([0, 1, 1, 2, 3, 5, 8], np.float32)
    yield 'zero_channel_float32', np.zeros((1, 2, 2, 2), np.float32), np.array([0, 0, 0, 0, 1, 0, 0, 0], np.float32).reshape(1, 2, 2, 2)


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for name, a, b in cases():
        np.save(os.path.join(OUT, f'{name}.reference.npy'), a)
        np.save(os.path.join(OUT, f'{name}.candidate.npy'), b)
        expected[name] = [stats(a, b, **t) for t in TOLERANCES]
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'numpy': np.__version__, 'cases': expected}, f, indent=1, allow_nan=True)
        f.write('\n')


if __name__ == '__main__':
    main()
