/** Comparison metrics for tensors and images; definitions in docs/metrics.md. */
export { compareTensors, unravel, type MetricSet } from './compare.ts';
export { guidanceDelta } from './guidance.ts';
export { psnr, ssim, type RgbImage } from './image.ts';
export {
  DEFAULT_TOLERANCE,
  errorStatistics,
  type AbsErrQuantiles,
  type AllcloseResult,
  type ErrorStatistics,
  type Tolerance,
  type WorstChannel,
} from './error-stats.ts';
export { absErrorHistogram, type ErrorHistogram } from './histogram.ts';
