/**
 * The metric object stored for every compared tensor pair. It mirrors
 * `MetricSet` from src/metrics (declared here too so the report contract
 * does not wait for that module; the shapes must stay identical).
 */
export interface MetricSet {
  cosine: number;
  /** Mean absolute error. */
  l1: number;
  maxAbs: number;
  /** C-order multi-index of the largest |difference|. */
  maxAbsIndex: number[];
  rmse: number;
  /** ‖cand − ref‖₂ / ‖ref‖₂. */
  relL2: number;
  /** Signal-to-quantization-noise ratio in dB; Infinity when identical. */
  sqnr: number;
  nanCount: { reference: number; candidate: number };
  infCount: { reference: number; candidate: number };
  /** Number of elements compared. */
  count: number;
}
