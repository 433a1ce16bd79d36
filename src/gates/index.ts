/** Thresholds and verdicts over a report (see docs/thresholds.md). */
export { defaultThresholds } from './defaults.ts';
export { applyGates, describeGate, evaluateGates, formatNumber, type Evaluation } from './evaluate.ts';
export {
  applyOverrides,
  describeValidKeys,
  loadThresholdsFile,
  parseOverride,
  slotsForKey,
  type ThresholdOverride,
} from './overrides.ts';
