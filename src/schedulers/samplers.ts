/**
 * The names people pick schedulers by, and what each one means in diffusers
 * 0.27.2: a scheduler class plus the config keys the name pins (applied over
 * the model's scheduler_config.json, as `Class.from_config(config, **pins)`).
 * Three kinds of names: lockstep's short names (`ddim`, `euler-a`, …), the
 * diffusers class names, and the web-UI (A1111 / k-diffusion) sampler names
 * from diffusers' own mapping table (docs/source/en/api/schedulers/overview.md).
 */
import type { SchedulerConfig } from './types.ts';

/** Every scheduler class of diffusers 0.27.2 that a name here can resolve to. */
export const DIFFUSERS_CLASSES = [
  'DDIMScheduler',
  'PNDMScheduler',
  'EulerDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'DPMSolverMultistepScheduler',
  'LCMScheduler',
  'UniPCMultistepScheduler',
  'DEISMultistepScheduler',
  'DPMSolverSinglestepScheduler',
  'HeunDiscreteScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
  'LMSDiscreteScheduler',
  'DDPMScheduler',
  'TCDScheduler',
  'DPMSolverSDEScheduler',
] as const;
export type DiffusersClassName = (typeof DIFFUSERS_CLASSES)[number];

/**
 * Classes lockstep refuses for good, with the reason. (Classes merely not
 * implemented yet are refused by the registry with a plainer message.)
 */
export const REFUSED_CLASSES: Partial<Record<DiffusersClassName, string>> = {
  DPMSolverSDEScheduler:
    "its noise comes from torchsde's Brownian tree (BrownianTreeNoiseSampler, seeded from the latents' values), " +
    "not from the pipeline's torch generator, so no other runtime can reproduce it",
};

/** lockstep's short CLI names (the first six are the historical ones, kept as they were). */
export const SHORT_NAMES: Readonly<Record<string, DiffusersClassName>> = {
  ddim: 'DDIMScheduler',
  pndm: 'PNDMScheduler',
  euler: 'EulerDiscreteScheduler',
  'euler-a': 'EulerAncestralDiscreteScheduler',
  'dpmpp-2m': 'DPMSolverMultistepScheduler',
  lcm: 'LCMScheduler',
  unipc: 'UniPCMultistepScheduler',
  deis: 'DEISMultistepScheduler',
  'dpm-single': 'DPMSolverSinglestepScheduler',
  heun: 'HeunDiscreteScheduler',
  kdpm2: 'KDPM2DiscreteScheduler',
  'kdpm2-a': 'KDPM2AncestralDiscreteScheduler',
  lms: 'LMSDiscreteScheduler',
  ddpm: 'DDPMScheduler',
  tcd: 'TCDScheduler',
  'dpmpp-sde': 'DPMSolverSDEScheduler',
};

export interface SamplerName {
  /** As the web UIs spell it. */
  readonly name: string;
  /** The diffusers class, or null where diffusers has no equivalent. */
  readonly className: DiffusersClassName | null;
  /** Config keys the name fixes; every other key comes from the model's scheduler_config.json. */
  readonly pins: Readonly<SchedulerConfig>;
  /** Why lockstep refuses the name, when it does. */
  readonly refused?: string;
}

const KARRAS = { use_karras_sigmas: true } as const;
const NO_KARRAS = { use_karras_sigmas: false } as const;
const SDE_REFUSAL =
  "A1111's DPM++ SDE (k-diffusion sample_dpmpp_sde) draws its noise from torchsde's Brownian tree, as diffusers' " +
  'DPMSolverSDEScheduler does; that noise is seeded from the latents, not from the torch generator, so lockstep cannot ' +
  "reproduce it. (diffusers' docs table maps the name to DPMSolverSinglestepScheduler, a deterministic solver that is " +
  'not the same sampler; pass --scheduler DPMSolverSinglestepScheduler if that is what you mean.)';
const NO_EQUIVALENT = 'diffusers 0.27.2 has no equivalent scheduler (its docs table says N/A)';

/** diffusers' A1111 mapping table, plus the A1111 names of the schedulers it lists as N/A there. */
export const SAMPLER_NAMES: readonly SamplerName[] = [
  { name: 'DPM++ 2M', className: 'DPMSolverMultistepScheduler', pins: { ...NO_KARRAS, algorithm_type: 'dpmsolver++', solver_order: 2 } },
  { name: 'DPM++ 2M Karras', className: 'DPMSolverMultistepScheduler', pins: { ...KARRAS, algorithm_type: 'dpmsolver++', solver_order: 2 } },
  { name: 'DPM++ 2M SDE', className: 'DPMSolverMultistepScheduler', pins: { ...NO_KARRAS, algorithm_type: 'sde-dpmsolver++', solver_order: 2 } },
  { name: 'DPM++ 2M SDE Karras', className: 'DPMSolverMultistepScheduler', pins: { ...KARRAS, algorithm_type: 'sde-dpmsolver++', solver_order: 2 } },
  { name: 'DPM++ 2S a', className: null, pins: {}, refused: NO_EQUIVALENT },
  { name: 'DPM++ 2S a Karras', className: null, pins: {}, refused: NO_EQUIVALENT },
  { name: 'DPM++ SDE', className: 'DPMSolverSDEScheduler', pins: NO_KARRAS, refused: SDE_REFUSAL },
  { name: 'DPM++ SDE Karras', className: 'DPMSolverSDEScheduler', pins: KARRAS, refused: SDE_REFUSAL },
  { name: 'DPM2', className: 'KDPM2DiscreteScheduler', pins: NO_KARRAS },
  { name: 'DPM2 Karras', className: 'KDPM2DiscreteScheduler', pins: KARRAS },
  { name: 'DPM2 a', className: 'KDPM2AncestralDiscreteScheduler', pins: NO_KARRAS },
  { name: 'DPM2 a Karras', className: 'KDPM2AncestralDiscreteScheduler', pins: KARRAS },
  { name: 'DPM adaptive', className: null, pins: {}, refused: NO_EQUIVALENT },
  { name: 'DPM fast', className: null, pins: {}, refused: NO_EQUIVALENT },
  { name: 'Euler', className: 'EulerDiscreteScheduler', pins: NO_KARRAS },
  { name: 'Euler a', className: 'EulerAncestralDiscreteScheduler', pins: {} },
  { name: 'Heun', className: 'HeunDiscreteScheduler', pins: NO_KARRAS },
  { name: 'LMS', className: 'LMSDiscreteScheduler', pins: NO_KARRAS },
  { name: 'LMS Karras', className: 'LMSDiscreteScheduler', pins: KARRAS },
  { name: 'DDIM', className: 'DDIMScheduler', pins: {} },
  { name: 'PLMS', className: 'PNDMScheduler', pins: { skip_prk_steps: true } },
  { name: 'UniPC', className: 'UniPCMultistepScheduler', pins: {} },
  { name: 'LCM', className: 'LCMScheduler', pins: {} },
];

/** Case and spacing do not matter in a web-UI name ("dpm++ 2m  karras" is "DPM++ 2M Karras"). */
export function normalizeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}
