import type { Command } from 'commander';
import { registerDemo } from './demo.ts';
import { registerGenerate } from './generate.ts';
import { registerCompare } from './compare.ts';
import { registerDiff } from './diff.ts';
import { registerTokenize } from './tokenize.ts';
import { registerNoise } from './noise.ts';
import { registerForge } from './forge.ts';
import { registerForgeVariant } from './forge-variant.ts';
import { registerReport } from './report.ts';
import { registerLocalize } from './localize.ts';
import { registerRun } from './run.ts';
import { registerGolden } from './golden.ts';
import { registerExportInputs } from './export-inputs.ts';
import { registerImportOutputs } from './import-outputs.ts';
import { registerRepeat } from './repeat.ts';
import { registerCalibrate } from './calibrate.ts';

/** Each command module exports a function that adds itself to the program; one line each, in help order. */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerDemo,
  registerGenerate,
  registerCompare,
  registerDiff,
  registerTokenize,
  registerNoise,
  registerForge,
  registerForgeVariant,
  registerReport,
  registerLocalize,
  registerRun,
  registerGolden,
  registerExportInputs,
  registerImportOutputs,
  registerRepeat,
  registerCalibrate,
];
