/**
 * The config keys each scheduler class takes, as diffusers 0.27.2's
 * `__init__` declares them, and the values lockstep implements for each.
 * One table per class: it gives the defaults `from_config` fills in, refuses
 * by name any value lockstep does not implement (never ignoring it), and is
 * what `lockstep schedulers` lists. A test checks every table against the
 * signatures diffusers itself reports (test/reference/schedulers/signatures.json).
 */
import { UsageError } from '../errors.ts';
import type { SchedulerConfig } from './types.ts';

export type OptionScalar = string | number | boolean | null;
export type OptionValue = OptionScalar | readonly number[];

export interface OptionSpec {
  /** diffusers 0.27.2's default for the key. */
  readonly default: OptionValue;
  /**
   * The values lockstep implements. Omitted: every value of the key's type
   * (numbers, lists), checked by the class when it reads the key.
   */
  readonly implemented?: readonly OptionScalar[];
  /** Why other values are refused, when lockstep could not implement them. */
  readonly why?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The class defaults, as a config object. */
export function defaultsOf(table: OptionTable): SchedulerConfig {
  return Object.fromEntries(Object.entries(table).map(([k, spec]) => [k, spec.default]));
}

/**
 * `<Class>.from_config(file)`: the table's defaults overlaid with the file's
 * values for the keys the class declares (other classes' keys are ignored, as
 * diffusers ignores them), then every declared value checked.
 */
export function configure(className: string, table: OptionTable, file: Readonly<SchedulerConfig>): SchedulerConfig {
  const merged = defaultsOf(table);
  for (const key of Object.keys(table)) {
    if (key in file) merged[key] = file[key];
  }
  checkImplemented(className, table, merged);
  return merged;
}

/** Throws a UsageError naming the first key whose value lockstep does not implement. */
export function checkImplemented(className: string, table: OptionTable, config: Readonly<SchedulerConfig>): void {
  for (const [key, spec] of Object.entries(table)) {
    if (!spec.implemented) continue;
    const value = config[key] as OptionScalar;
    if (spec.implemented.includes(value)) continue;
    const list = spec.implemented.map((v) => JSON.stringify(v)).join(', ');
    const why = spec.why ? ` — ${spec.why}` : '';
    throw new UsageError(
      `scheduler config (${className}): "${key}" = ${JSON.stringify(value) ?? 'undefined'} is not implemented by lockstep (implemented: ${list})${why}`,
    );
  }
}

/** Common keys, shared by the tables so every class says the same thing about them. */
export const BETA_OPTIONS: OptionTable = {
  num_train_timesteps: { default: 1000 },
  beta_start: { default: 0.0001 },
  beta_end: { default: 0.02 },
  beta_schedule: { default: 'linear', implemented: ['linear', 'scaled_linear', 'squaredcos_cap_v2'] },
  trained_betas: { default: null },
};

export const SPACINGS = ['linspace', 'leading', 'trailing'] as const;
export const ALL_PREDICTIONS = ['epsilon', 'v_prediction', 'sample'] as const;

/** diffusers' dynamic thresholding (Imagen): percentile of |x0| per sample, clamp, rescale. */
export const THRESHOLDING_OPTIONS: OptionTable = {
  thresholding: { default: false },
  dynamic_thresholding_ratio: { default: 0.995 },
  sample_max_value: { default: 1.0 },
};
