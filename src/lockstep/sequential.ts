/**
 * Memory discipline for large models: instead of holding the reference's and
 * the candidate's sessions at once, run the reference first, streaming every
 * tensor to a trace on disk, release it, then compare the candidate against
 * that recording. The comparison is the same (a recorded reference feeds its
 * inputs to the live candidate); the cost is the disk traffic, reported.
 */
import { join } from 'node:path';
import { generate } from '../pipeline/generate.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import type { BuildInfo } from '../report/schema.ts';
import { type BuildSpec, liveBuildInfo } from './builds.ts';

export interface RecordedReference {
  spec: BuildSpec;
  info: BuildInfo;
  settings: PipelineSettings;
  /** Wall time of the reference run, including writing its trace. */
  seconds: number;
  ortSeconds: number;
  ortSessionSeconds: number;
}

export async function recordReference(spec: BuildSpec, settings: PipelineSettings, reportDir: string): Promise<RecordedReference> {
  const dir = join(reportDir, 'reference-trace');
  let info: BuildInfo | undefined;
  let resolved = settings;
  const result = await generate({
    model: spec.path,
    settings,
    backend: spec.backend,
    traceDir: dir,
    onLoaded: (model) => {
      info = liveBuildInfo(model.onnx, spec, 'reference');
    },
    onSettings: (s) => {
      resolved = s;
    },
  });
  return { spec: { path: dir, backend: spec.backend, label: spec.label }, info: info!, settings: resolved, seconds: result.wallSeconds, ortSeconds: result.ortSeconds, ortSessionSeconds: result.ortSessionSeconds };
}
