/**
 * Pipeline families: which diffusers pipeline a model folder runs as, and
 * what that pipeline does differently. Detected from the folder (model_index
 * `_class_name`, the components present, the U-Net's inputs) or forced with
 * `--pipeline`; a folder that cannot run as its family is refused naming what
 * is missing.
 */
import { UsageError } from '../errors.ts';
import type { ModelLayout } from '../models/layout.ts';

export type FamilyName = 'sd' | 'lcm' | 'sdxl';
export const FAMILY_NAMES: readonly FamilyName[] = ['sd', 'lcm', 'sdxl'];

export interface Family {
  name: FamilyName;
  /** The diffusers pipelines this family reproduces (text-to-image, image-to-image). */
  pipelineClass: string;
  img2imgClass: string;
  /** Two tokenizers/text encoders, penultimate hidden states, pooled embeddings and time ids (SDXL). */
  dualTextEncoders: boolean;
  /** The LCM pipeline never runs a classifier-free batch; the others do when guidance > 1 and the U-Net has no timestep_cond. */
  classifierFree: boolean;
  /** The LCM pipeline decodes the scheduler's denoised sample, the others the latents. */
  decodes: 'latents' | 'denoised';
  /**
   * How the image-to-image pipeline applies `strength`: StableDiffusion(XL)Img2ImgPipeline cuts the schedule
   * (get_timesteps: the last int(steps · strength) steps run); LatentConsistencyModelImg2ImgPipeline passes it
   * to LCMScheduler.set_timesteps, which picks all `steps` from a shortened origin schedule.
   */
  strengthBy: 'get_timesteps' | 'set_timesteps';
}

export const FAMILIES: Record<FamilyName, Family> = {
  sd: { name: 'sd', pipelineClass: 'StableDiffusionPipeline', img2imgClass: 'StableDiffusionImg2ImgPipeline', dualTextEncoders: false, classifierFree: true, decodes: 'latents', strengthBy: 'get_timesteps' },
  lcm: { name: 'lcm', pipelineClass: 'LatentConsistencyModelPipeline', img2imgClass: 'LatentConsistencyModelImg2ImgPipeline', dualTextEncoders: false, classifierFree: false, decodes: 'denoised', strengthBy: 'set_timesteps' },
  sdxl: { name: 'sdxl', pipelineClass: 'StableDiffusionXLPipeline', img2imgClass: 'StableDiffusionXLImg2ImgPipeline', dualTextEncoders: true, classifierFree: true, decodes: 'latents', strengthBy: 'get_timesteps' },
};

/** What detection needs from an opened folder. */
export interface FamilyEvidence {
  layout: ModelLayout;
  unetInputs: readonly string[];
}

export function parseFamily(value: string, flag = '--pipeline'): FamilyName {
  if ((FAMILY_NAMES as readonly string[]).includes(value)) return value as FamilyName;
  throw new UsageError(`${flag} must be one of ${FAMILY_NAMES.join(', ')}, got '${value}'`);
}

/** The family a folder runs as: forced, else from model_index.json, else from its components. */
export function detectFamily(e: FamilyEvidence, forced?: string): Family {
  const name = forced ? parseFamily(forced) : familyFromIndex(e.layout.modelIndex) ?? familyFromComponents(e);
  const family = FAMILIES[name];
  checkConsistent(family, e);
  return family;
}

function familyFromIndex(index: Record<string, unknown>): FamilyName | null {
  const cls = typeof index._class_name === 'string' ? index._class_name : '';
  if (/StableDiffusionXL/.test(cls)) return 'sdxl';
  if (/LatentConsistencyModel/.test(cls)) return 'lcm';
  if (/StableDiffusion/.test(cls)) return 'sd';
  return null;
}

function familyFromComponents({ layout, unetInputs }: FamilyEvidence): FamilyName {
  if (layout.onnx.text_encoder_2 || unetInputs.includes('text_embeds')) return 'sdxl';
  if (unetInputs.includes('timestep_cond')) return 'lcm';
  return 'sd';
}

/** One error naming everything the family needs that the folder lacks. */
function checkConsistent(family: Family, { layout, unetInputs }: FamilyEvidence): void {
  const missing: string[] = [];
  const needInput = (name: string) => {
    if (!unetInputs.includes(name)) missing.push(`the U-Net input '${name}' (unet/model.onnx)`);
  };
  if (family.dualTextEncoders) {
    if (!layout.onnx.text_encoder_2) missing.push('text_encoder_2/model.onnx');
    if (!layout.tokenizer2Dir) missing.push('tokenizer_2/ (vocab.json, merges.txt)');
    needInput('text_embeds');
    needInput('time_ids');
  } else {
    for (const name of ['text_embeds', 'time_ids']) {
      if (unetInputs.includes(name)) missing.push(`nothing to feed the U-Net input '${name}' (an SDXL U-Net: run it with --pipeline sdxl)`);
    }
  }
  if (family.name === 'lcm') {
    needInput('timestep_cond');
    if (unetInputs.includes('timestep_cond') && layout.unetConfig.timeCondProjDim === null) missing.push('time_cond_proj_dim in unet/config.json');
  } else if (unetInputs.includes('timestep_cond') && layout.unetConfig.timeCondProjDim === null) {
    missing.push('time_cond_proj_dim in unet/config.json (the U-Net takes timestep_cond)');
  }
  if (missing.length > 0) {
    throw new UsageError(`${layout.dir}: cannot run as the ${family.name} pipeline (${family.pipelineClass}): missing ${missing.join('; ')}`);
  }
}
