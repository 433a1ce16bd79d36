/**
 * Scheduler names → implementations. A name is a lockstep short name, a
 * diffusers class name or a web-UI sampler name (see samplers.ts); it resolves
 * to a class plus the config keys the name pins.
 */
import { UsageError } from '../errors.ts';
import type { Scheduler, SchedulerConfig } from './types.ts';
import type { OptionTable } from './options.ts';
import {
  DIFFUSERS_CLASSES,
  type DiffusersClassName,
  REFUSED_CLASSES,
  SAMPLER_NAMES,
  SHORT_NAMES,
  normalizeName,
} from './samplers.ts';
import { DDIMScheduler } from './ddim.ts';
import { PNDMScheduler } from './pndm.ts';
import { EulerDiscreteScheduler } from './euler.ts';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.ts';
import { DPMSolverMultistepScheduler } from './dpmpp-2m.ts';
import { LCMScheduler } from './lcm.ts';
import { HeunDiscreteScheduler } from './heun.ts';
import { KDPM2DiscreteScheduler } from './kdpm2.ts';
import { KDPM2AncestralDiscreteScheduler } from './kdpm2-ancestral.ts';
import { LMSDiscreteScheduler } from './lms.ts';
import { DDPMScheduler } from './ddpm.ts';
import { TCDScheduler } from './tcd.ts';
import { UniPCMultistepScheduler } from './unipc.ts';
import { DEISMultistepScheduler } from './deis.ts';
import { DPMSolverSinglestepScheduler } from './dpm-singlestep.ts';

export interface SchedulerClass {
  new (config: SchedulerConfig): Scheduler;
  readonly className: string;
  /** The diffusers config keys of the class and the values lockstep implements (options.ts). */
  readonly options: OptionTable;
}

/** The implementation of each diffusers class; null: not implemented (yet). Add a class here and it is live everywhere. */
export const IMPLEMENTATIONS: Readonly<Record<DiffusersClassName, SchedulerClass | null>> = {
  DDIMScheduler,
  PNDMScheduler,
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  DPMSolverMultistepScheduler,
  LCMScheduler,
  UniPCMultistepScheduler,
  DEISMultistepScheduler,
  DPMSolverSinglestepScheduler,
  HeunDiscreteScheduler,
  KDPM2DiscreteScheduler,
  KDPM2AncestralDiscreteScheduler,
  LMSDiscreteScheduler,
  DDPMScheduler,
  TCDScheduler,
  DPMSolverSDEScheduler: null,
};

/** The short names of the implemented classes, in table order. */
export const SCHEDULER_NAMES: readonly string[] = Object.keys(SHORT_NAMES).filter((n) => IMPLEMENTATIONS[SHORT_NAMES[n]] !== null);

export interface ResolvedScheduler {
  className: DiffusersClassName;
  implementation: SchedulerClass;
  /** Config keys fixed by the name (a web-UI name), applied over the model's file. */
  pins: Readonly<SchedulerConfig>;
}

function lookUp(nameOrClass: string): { className: DiffusersClassName | null; pins: Readonly<SchedulerConfig>; refused?: string } | null {
  if (nameOrClass in SHORT_NAMES) return { className: SHORT_NAMES[nameOrClass], pins: {} };
  if ((DIFFUSERS_CLASSES as readonly string[]).includes(nameOrClass)) return { className: nameOrClass as DiffusersClassName, pins: {} };
  const key = normalizeName(nameOrClass);
  const sampler = SAMPLER_NAMES.find((s) => normalizeName(s.name) === key);
  if (sampler) return sampler;
  const short = Object.keys(SHORT_NAMES).find((n) => n === key);
  return short ? { className: SHORT_NAMES[short], pins: {} } : null;
}

function validNames(): string {
  const implemented = (c: DiffusersClassName | null) => c !== null && IMPLEMENTATIONS[c] !== null;
  const web = SAMPLER_NAMES.filter((s) => !s.refused && implemented(s.className)).map((s) => `"${s.name}"`);
  return `${SCHEDULER_NAMES.join(', ')}, a diffusers class name, or a web-UI name (${web.join(', ')}); \`lockstep schedulers\` lists them`;
}

/** The class and pins a name stands for; UsageError for unknown, refused or not implemented ones. */
export function resolveScheduler(nameOrClass: string): ResolvedScheduler {
  const found = lookUp(nameOrClass);
  if (!found) throw new UsageError(`unknown scheduler "${nameOrClass}"; valid: ${validNames()}`);
  const { className, pins } = found;
  const refused = found.refused ?? (className ? REFUSED_CLASSES[className] : undefined);
  if (refused) throw new UsageError(`scheduler "${nameOrClass}" is refused by lockstep: ${refused}`);
  const implementation = className ? IMPLEMENTATIONS[className] : null;
  if (!className || !implementation) {
    const which = className && className !== nameOrClass ? ` (${className})` : '';
    throw new UsageError(`scheduler "${nameOrClass}"${which} is not implemented by lockstep yet; valid: ${validNames()}`);
  }
  return { className, implementation, pins };
}

/** The short name for an implemented class, name or web-UI name (e.g. "Euler a" → "euler-a"). */
export function schedulerNameOf(nameOrClass: string): string {
  const { className } = resolveScheduler(nameOrClass);
  return Object.keys(SHORT_NAMES).find((n) => SHORT_NAMES[n] === className)!;
}

/** The diffusers class name of a scheduler name. */
export function schedulerClassOf(nameOrClass: string): string {
  return resolveScheduler(nameOrClass).className;
}

/**
 * Builds a scheduler as `<Class>.from_config(config, **pins)` does: keys
 * missing from `config` take the class defaults, keys of other classes are
 * ignored, and a value lockstep does not implement is refused by name.
 */
export function createScheduler(nameOrClass: string, config: SchedulerConfig): Scheduler {
  const { implementation, pins } = resolveScheduler(nameOrClass);
  return new implementation({ ...config, ...pins });
}
