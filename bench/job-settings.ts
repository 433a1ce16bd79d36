/** The pipeline settings every bench job runs with: one prompt and seed, the job's steps and size, its overrides. */
import { DEFAULT_SETTINGS, type PipelineSettings } from '../src/pipeline/settings.ts';

export function jobSettings(job: { steps: number; size: number; settings?: Partial<PipelineSettings> }): PipelineSettings {
  return {
    ...DEFAULT_SETTINGS,
    prompt: 'a photograph of an astronaut riding a horse',
    seed: 42,
    steps: job.steps,
    height: job.size,
    width: job.size,
    ...job.settings,
  };
}
