/**
 * `lockstep/vitest`: suites as vitest tests and lockstep's matchers. Importing
 * this module registers `toPassGates` and `toMatchReference` on vitest's
 * `expect` (and, through the module augmentation in testing/matchers.ts, types
 * them), so a test file needs only this import.
 */
export { describeSuite, type DescribeSuiteOptions } from './suite/describe-suite.ts';
export { toMatchReference, toPassGates, type ReferenceBounds } from './testing/matchers.ts';
