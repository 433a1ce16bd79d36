/**
 * Reading scheduler configs: the file loader and a typed reader whose every
 * value is checked before use, so a bad setting is a UsageError naming the
 * key, never a silent guess. Which keys a class takes and which values lockstep
 * implements is options.ts's job.
 */
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';
import type { SchedulerConfig } from './types.ts';
import type { BetaConfig, BetaSchedule } from './betas.ts';

/** Reads a scheduler_config.json (Python JSON: may hold -Infinity). */
export function loadSchedulerConfig(path: string): SchedulerConfig {
  const value = readPythonJson(path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${path}: a scheduler config must be a JSON object`);
  }
  return value as SchedulerConfig;
}

/**
 * A key the class does not declare, as diffusers still exposes it: from_config
 * registers every other saved key ("hidden" config of compatible classes), so
 * `hasattr(self.config, key)` holds — Heun's and KDPM2's Karras sigmas read
 * sigma_min / sigma_max this way. Undefined when absent.
 */
export function hiddenConfigValue(file: Readonly<SchedulerConfig>, key: string): unknown {
  return key in file ? file[key] : undefined;
}

/** Typed, validated access to one merged config; errors name the class and the key. */
export class ConfigReader {
  constructor(
    readonly className: string,
    readonly values: Readonly<SchedulerConfig>,
  ) {}

  fail(key: string, expected: string): UsageError {
    return new UsageError(
      `scheduler config (${this.className}): "${key}" ${expected}, got ${JSON.stringify(this.values[key]) ?? 'undefined'}`,
    );
  }

  number(key: string): number {
    const v = this.values[key];
    if (typeof v !== 'number' || Number.isNaN(v)) throw this.fail(key, 'must be a number');
    return v;
  }

  nullableNumber(key: string): number | null {
    return this.values[key] === null ? null : this.number(key);
  }

  int(key: string, min = 0): number {
    const v = this.number(key);
    if (!Number.isInteger(v) || v < min) throw this.fail(key, `must be an integer ≥ ${min}`);
    return v;
  }

  bool(key: string): boolean {
    const v = this.values[key];
    if (typeof v !== 'boolean') throw this.fail(key, 'must be true or false');
    return v;
  }

  oneOf<T extends string | null>(key: string, allowed: readonly T[]): T {
    const v = this.values[key] as T;
    if (!allowed.includes(v)) throw this.fail(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return v;
  }

  numberArrayOrNull(key: string): number[] | null {
    const v = this.values[key];
    if (v === null) return null;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw this.fail(key, 'must be null or a list of numbers');
    return v as number[];
  }
}

export const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['linspace', 'leading', 'trailing'];
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'v_prediction', 'sample'];

/** The beta settings; `schedules` are the beta_schedule values the class accepts (only Heun has "exp"). */
export function readBetaConfig(r: ConfigReader, schedules: readonly BetaSchedule[] = BETA_SCHEDULES): BetaConfig {
  return {
    num_train_timesteps: r.int('num_train_timesteps', 2),
    beta_start: r.number('beta_start'),
    beta_end: r.number('beta_end'),
    beta_schedule: r.oneOf('beta_schedule', schedules),
    trained_betas: r.numberArrayOrNull('trained_betas'),
    rescale_betas_zero_snr: 'rescale_betas_zero_snr' in r.values ? r.bool('rescale_betas_zero_snr') : false,
  };
}

/**
 * 1 ≤ steps ≤ num_train_timesteps. DDIM, DDPM, LCM and TCD raise beyond that in diffusers; the
 * other classes would repeat timesteps, which lockstep refuses for every class. The CLI flag is --steps.
 */
export function checkStepCount(n: number, numTrainTimesteps: number, className: string): void {
  if (!Number.isInteger(n) || n < 1 || n > numTrainTimesteps) {
    throw new UsageError(
      `--steps must be an integer from 1 to num_train_timesteps (${numTrainTimesteps}) for ${className}, got ${n}`,
    );
  }
}
