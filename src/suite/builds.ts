/** Turning a suite's build declaration into a lockstep BuildSpec (path + backend). */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hashTree } from '../forge/tiny.ts';
import { forgeVariant } from '../forge/variants/forge-variant.ts';
import { generate } from '../pipeline/generate.ts';
import { CACHE_DIR } from '../testing/paths.ts';
import { UsageError } from '../errors.ts';
import { type BackendOptions, DEFAULT_BACKEND, type GraphOptimizationLevel } from '../models/backend.ts';
import { isBuiltin, resolveBuiltin } from '../models/builtin.ts';
import { isModelFolder } from '../models/layout.ts';
import type { BuildSpec } from '../lockstep/builds.ts';
import type { Suite } from './load.ts';
import type { BuildDecl } from './schema.ts';

type VariantDecl = NonNullable<BuildDecl['variant']>;

export type SideName = 'reference' | 'candidate';

export function backendOf(b: BuildDecl): BackendOptions {
  const providers = b.provider === undefined ? DEFAULT_BACKEND.executionProviders : [b.provider].flat().flatMap((p) => p.split(','));
  return {
    executionProviders: providers.map((p) => p.trim().toLowerCase()).filter(Boolean),
    graphOptimizationLevel: (b.optLevel as GraphOptimizationLevel | undefined) ?? DEFAULT_BACKEND.graphOptimizationLevel,
    intraOpThreads: b.threads ?? 0,
    interOpThreads: 0,
    deterministic: b.deterministic ?? false,
    memArena: b.memArena ?? DEFAULT_BACKEND.memArena,
    memPattern: b.memPattern ?? DEFAULT_BACKEND.memPattern,
    prepacking: b.prepacking ?? DEFAULT_BACKEND.prepacking,
  };
}

/** The model folder a side declares (resolving builtin:shapes / builtin:tiny and applying a variant as needed). */
export async function resolveModel(suite: Suite, side: SideName): Promise<string> {
  const decl = suite[side];
  if (decl.model === undefined) throw new UsageError(`${suite.file}: ${side}.model: required here (this needs a model, not a trace)`);
  const base = await baseModel(suite, side, decl.model);
  return decl.variant ? applyVariant(suite, side, base, decl.variant) : base;
}

async function baseModel(suite: Suite, side: SideName, model: string): Promise<string> {
  if (isBuiltin(model)) return resolveBuiltin(model, `${suite.file}: ${side}.model`);
  const path = resolve(suite.dir, model);
  if (!existsSync(path)) throw new UsageError(`${suite.file}: ${side}.model: no such model folder: ${path}`);
  if (!isModelFolder(path)) throw new UsageError(`${suite.file}: ${side}.model: ${path} is not a model folder (expected unet/model.onnx and model_index.json)`);
  return path;
}

/**
 * A variant of the model, forged once into .cache/variants/ (keyed by the
 * source model's file hashes and the variant declaration) and reused after.
 */
async function applyVariant(suite: Suite, side: SideName, base: string, variant: VariantDecl): Promise<string> {
  const calibrate = variant.kind === 'int8-qdq' ? await calibrationTraces(suite, base, variant) : undefined;
  const key = createHash('sha256').update(JSON.stringify({ files: hashTree(base), variant, calibrate })).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, 'variants', `${variant.kind.replace(/[^A-Za-z0-9.-]/g, '_')}-${key}`);
  if (existsSync(join(out, 'variant.json'))) return out;
  try {
    await forgeVariant({ from: base, kind: variant.kind, out, components: variant.components, calibrate });
  } catch (err) {
    throw err instanceof UsageError ? new UsageError(`${suite.file}: ${side}.variant: ${err.message}`, { cause: err }) : err;
  }
  return out;
}

/** The declared calibration traces, or one recorded from the first case on the source model. */
async function calibrationTraces(suite: Suite, base: string, variant: VariantDecl): Promise<string[]> {
  if (variant.calibrate) return variant.calibrate.map((t) => resolve(suite.dir, t));
  const settings = suite.cases[0].settings;
  const key = createHash('sha256').update(JSON.stringify({ files: hashTree(base), settings })).digest('hex').slice(0, 16);
  const dir = join(CACHE_DIR, 'calibration', key);
  if (!existsSync(join(dir, 'trace', 'manifest.json'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    await generate({ model: base, settings, imageOut: join(tmp, 'image.png'), traceDir: join(tmp, 'trace') });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
  }
  return [join(dir, 'trace')];
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
