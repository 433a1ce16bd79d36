/** --threshold KEY=VALUE (repeatable) and --thresholds FILE, over the defaults. */
import type { Command } from 'commander';
import { applyOverrides, defaultThresholds, loadThresholdsFile, parseOverride } from '../gates/index.ts';
import type { Thresholds } from '../report/schema.ts';

export function addThresholdFlags(cmd: Command): Command {
  return cmd
    .option('--threshold <key=value>', 'override a gate, e.g. cosine=0.999 or teacherForced.noisePred.relL2=1e-3 (repeatable; see docs/thresholds.md)', collect, [])
    .option('--thresholds <file.json>', 'thresholds file (e.g. written by lockstep calibrate); --threshold flags win over it');
}

export function thresholdsFromFlags(values: { threshold?: string[]; thresholds?: string }, base: Thresholds = defaultThresholds()): Thresholds {
  const fromFile = values.thresholds ? loadThresholdsFile(values.thresholds) : [];
  const fromFlags = (values.threshold ?? []).map((t) => parseOverride(t, '--threshold'));
  return applyOverrides(base, [...fromFile, ...fromFlags]);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
