/**
 * compareTensors throughput vs a plain memory copy of the same data: both
 * read the two tensors' bytes once; the copy (Float32Array.prototype.set)
 * is the floor any single pass over the data pays. The scalar JavaScript
 * path is timed too, to show what the SIMD kernel buys.
 */
import { compareTensors } from '../src/metrics/compare.ts';
import { errorStatistics } from '../src/metrics/error-stats.ts';
import { uniformWeights } from '../src/forge/prng.ts';
import { makeTensor } from '../src/tensor/tensor.ts';

export interface Throughput {
  elements: number;
  compareGBps: number;
  /** The same comparison on the scalar JavaScript path. */
  scalarGBps: number;
  /** errorStatistics (quantiles, allclose, worst channel): the separate pass the engine adds per tensor. */
  statsGBps: number;
  copyGBps: number;
  /** compare GB/s ÷ copy GB/s. */
  ratio: number;
}

/** Median seconds of `fn` over repetitions after a warm-up, ~0.5 s+ of runs in all. */
function timeIt(fn: () => void, minSeconds = 0.5): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const deadline = performance.now() + minSeconds * 1000;
  while (times.length < 5 || (performance.now() < deadline && times.length < 200)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

export function measureThroughput(elements: number): Throughput {
  const a = uniformWeights(1, 'bench.a', elements, 1);
  const b = Float32Array.from(a, (x, i) => x + (i % 7) * 1e-4);
  const ta = makeTensor('float32', [elements], a);
  const tb = makeTensor('float32', [elements], b);
  const da = new Float32Array(elements);
  const db = new Float32Array(elements);
  let sink = 0;
  const compareS = timeIt(() => {
    sink += compareTensors(ta, tb).l1;
  });
  const scalarS = timeIt(() => {
    sink += compareTensors(ta, tb, 'bench', 'scalar').l1;
  });
  const statsS = timeIt(() => {
    sink += errorStatistics(ta, tb).absErrQuantiles.p50;
  });
  const copyS = timeIt(() => {
    da.set(a);
    db.set(b);
  });
  if (Number.isNaN(sink)) throw new Error('unreachable');
  const bytes = 2 * elements * 4;
  const compareGBps = bytes / compareS / 1e9;
  const copyGBps = bytes / copyS / 1e9;
  return { elements, compareGBps, scalarGBps: bytes / scalarS / 1e9, statsGBps: bytes / statsS / 1e9, copyGBps, ratio: compareGBps / copyGBps };
}
