export type { Scheduler, SchedulerConfig, SchedulerName, GeneratorUse } from './types.ts';
export { createScheduler, resolveScheduler, schedulerNameOf, schedulerClassOf, SCHEDULER_NAMES } from './registry.ts';
export { loadSchedulerConfig } from './config.ts';
