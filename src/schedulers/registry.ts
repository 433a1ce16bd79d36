/**
 * Scheduler names (CLI names and diffusers class names) → implementations.
 */
import { UsageError } from '../errors.ts';
import type { Scheduler, SchedulerConfig, SchedulerName } from './types.ts';
import { DDIMScheduler } from './ddim.ts';
import { PNDMScheduler } from './pndm.ts';
import { EulerDiscreteScheduler } from './euler.ts';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.ts';
import { DPMSolverMultistepScheduler } from './dpmpp-2m.ts';
import { LCMScheduler } from './lcm.ts';

type SchedulerClass = { new (config: SchedulerConfig): Scheduler; readonly className: string };

const CLASSES: Record<SchedulerName, SchedulerClass> = {
  ddim: DDIMScheduler,
  pndm: PNDMScheduler,
  euler: EulerDiscreteScheduler,
  'euler-a': EulerAncestralDiscreteScheduler,
  'dpmpp-2m': DPMSolverMultistepScheduler,
  lcm: LCMScheduler,
};

const CLASS_NAMES: Record<SchedulerName, string> = {
  ddim: 'DDIMScheduler',
  pndm: 'PNDMScheduler',
  euler: 'EulerDiscreteScheduler',
  'euler-a': 'EulerAncestralDiscreteScheduler',
  'dpmpp-2m': 'DPMSolverMultistepScheduler',
  lcm: 'LCMScheduler',
};

export const SCHEDULER_NAMES = Object.keys(CLASS_NAMES) as SchedulerName[];

/** The CLI name for a CLI name or a diffusers class name; UsageError listing the valid names otherwise. */
export function schedulerNameOf(nameOrClass: string): SchedulerName {
  if ((SCHEDULER_NAMES as string[]).includes(nameOrClass)) return nameOrClass as SchedulerName;
  const byClass = SCHEDULER_NAMES.find((n) => CLASS_NAMES[n] === nameOrClass);
  if (byClass) return byClass;
  const valid = SCHEDULER_NAMES.map((n) => `${n} (${CLASS_NAMES[n]})`).join(', ');
  throw new UsageError(`unknown scheduler "${nameOrClass}"; valid: ${valid}`);
}

/** The diffusers class name of a scheduler. */
export function schedulerClassOf(nameOrClass: string): string {
  return CLASS_NAMES[schedulerNameOf(nameOrClass)];
}

/**
 * Builds a scheduler as `<Class>.from_config(config)` does: keys missing from
 * `config` take the class defaults, keys of other classes are ignored.
 */
export function createScheduler(nameOrClass: string, config: SchedulerConfig): Scheduler {
  const name = schedulerNameOf(nameOrClass);
  return new CLASSES[name](config);
}
