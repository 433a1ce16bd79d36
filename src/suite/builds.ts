/** Turning a suite's build declaration into a lockstep BuildSpec (path + backend). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { ensureTinyModel } from '../forge/cache.ts';
import { type BackendOptions, DEFAULT_BACKEND, type GraphOptimizationLevel } from '../models/backend.ts';
import { isModelFolder } from '../models/layout.ts';
import type { BuildSpec } from '../lockstep/builds.ts';
import type { Suite } from './load.ts';
import type { BuildDecl } from './schema.ts';

export type SideName = 'reference' | 'candidate';

const BUILTIN = /^builtin:tiny(?:\?seed=(\d+))?$/;

export function backendOf(b: BuildDecl): BackendOptions {
  const providers = b.provider === undefined ? DEFAULT_BACKEND.executionProviders : [b.provider].flat().flatMap((p) => p.split(','));
  return {
    executionProviders: providers.map((p) => p.trim().toLowerCase()).filter(Boolean),
    graphOptimizationLevel: (b.optLevel as GraphOptimizationLevel | undefined) ?? DEFAULT_BACKEND.graphOptimizationLevel,
    intraOpThreads: b.threads ?? 0,
    interOpThreads: 0,
  };
}

/** The model folder a side declares (forging builtin:tiny and applying a variant as needed). */
export async function resolveModel(suite: Suite, side: SideName): Promise<string> {
  const decl = suite[side];
  if (decl.model === undefined) throw new UsageError(`${suite.file}: ${side}.model: required here (this needs a model, not a trace)`);
  const base = await baseModel(suite, side, decl.model);
  return decl.variant ? applyVariant(suite, side, base, decl.variant) : base;
}

async function baseModel(suite: Suite, side: SideName, model: string): Promise<string> {
  if (model.startsWith('builtin:')) {
    const m = BUILTIN.exec(model);
    if (!m) throw new UsageError(`${suite.file}: ${side}.model: unknown builtin "${model}" (expected "builtin:tiny" or "builtin:tiny?seed=N")`);
    return ensureTinyModel(m[1] === undefined ? 0 : Number(m[1]));
  }
  const path = resolve(suite.dir, model);
  if (!existsSync(path)) throw new UsageError(`${suite.file}: ${side}.model: no such model folder: ${path}`);
  if (!isModelFolder(path)) throw new UsageError(`${suite.file}: ${side}.model: ${path} is not a model folder (expected unet/model.onnx and model_index.json)`);
  return path;
}

/**
 * TODO(variants): apply `variant` through src/forge/variants (another
 * engineer's module, not in the tree when this was written) into .cache/.
 */
async function applyVariant(suite: Suite, side: SideName, _base: string, variant: { kind: string }): Promise<string> {
  throw new UsageError(`${suite.file}: ${side}.variant: kind "${variant.kind}" needs the variant forge (src/forge/variants), which this lockstep does not have yet`);
}

/** The build a side runs as, for a live or trace comparison. */
export async function resolveBuild(suite: Suite, side: SideName): Promise<BuildSpec> {
  const decl = suite[side];
  if (decl.trace !== undefined) {
    const path = resolve(suite.dir, decl.trace);
    if (!existsSync(join(path, 'manifest.json'))) throw new UsageError(`${suite.file}: ${side}.trace: no trace folder (manifest.json) at ${path}`);
    return { path, backend: backendOf(decl), label: side };
  }
  return { path: await resolveModel(suite, side), backend: backendOf(decl), label: side };
}
