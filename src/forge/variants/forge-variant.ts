/**
 * Forges a variant of any model folder in the diffusers/optimum layout: the
 * chosen components are loaded (external data inlined), transformed by the
 * kind, and saved the way they came (a component with external data gets its
 * side file again, under the same name); every other file is copied as is.
 * `variant.json` records what was done. Same inputs → same bytes.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { UsageError } from '../../errors.ts';
import { readModelLayout } from '../../models/layout.ts';
import { writeFileAtomic } from '../../util/fs.ts';
import { checkReplaceable, isInside } from '../../util/safe-paths.ts';
import type { ModelProto } from '../graph.ts';
import { loadModel, saveModel } from '../onnx-io.ts';
import { hashTree } from '../tiny.ts';
import { resolveKind, type KindOptions } from './registry.ts';
import { ALL_COMPONENTS, type ComponentName, type TouchCount, type VariantKind } from './types.ts';

export const VARIANT_FORMAT = 'lockstep.variant/1';

export interface VariantOptions extends KindOptions {
  from: string;
  kind: string;
  out: string;
  components?: readonly string[];
}

export interface VariantRecord {
  format: string;
  kind: string;
  parameters: Record<string, unknown>;
  components: Partial<Record<ComponentName, TouchCount & { externalData: string | null }>>;
  notes: string[];
  source: { files: Record<string, string> };
}

export async function forgeVariant(opts: VariantOptions): Promise<VariantRecord> {
  const kind = resolveKind(opts.kind, opts);
  const from = resolve(opts.from);
  readModelLayout(from); // refuses a folder that is not a model
  const components = presentComponents(from, chooseComponents(kind, opts.components), opts.components !== undefined);
  const out = resolve(opts.out);
  if (out === from) throw new UsageError(`--out ${opts.out}: must differ from --from`);
  if (isInside(out, from)) throw new UsageError(`--out ${opts.out}: contains --from ${opts.from}; replacing it would delete the source model`);
  if (isInside(from, out)) throw new UsageError(`--out ${opts.out}: is inside --from ${opts.from}; write the variant outside the source model`);
  checkReplaceable(out, 'variant.json', '--out');
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const record = await writeVariant(kind, from, tmp, components);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(dirname(out), { recursive: true });
    renameSync(tmp, out);
    return record;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function chooseComponents(kind: VariantKind, requested: readonly string[] | undefined): ComponentName[] {
  if (!requested) return [...kind.defaultComponents];
  const list = requested.map((c) => c.trim()).filter(Boolean);
  for (const c of list) {
    if (!(ALL_COMPONENTS as readonly string[]).includes(c)) throw new UsageError(`--components: unknown component '${c}' (expected ${ALL_COMPONENTS.join(', ')})`);
  }
  if (list.length === 0) throw new UsageError('--components: expected at least one component');
  return ALL_COMPONENTS.filter((c) => list.includes(c));
}

/** Defaults cover every family: components the folder lacks (text_encoder_2, vae_encoder) are skipped unless asked for by name. */
function presentComponents(from: string, components: ComponentName[], explicit: boolean): ComponentName[] {
  const present = components.filter((c) => existsSync(join(from, c, 'model.onnx')));
  const missing = components.filter((c) => !present.includes(c));
  if (explicit && missing.length > 0) throw new UsageError(`--components: ${from} has no ${missing.map((c) => `${c}/model.onnx`).join(', ')}`);
  return present;
}

async function writeVariant(kind: VariantKind, from: string, dir: string, components: ComponentName[]): Promise<VariantRecord> {
  const sourceFiles = hashTree(from);
  const record: VariantRecord = { format: VARIANT_FORMAT, kind: kind.kind, parameters: kind.parameters, components: {}, notes: kind.notes, source: { files: sourceFiles } };
  const replaced = new Set<string>();
  for (const component of components) {
    const file = join(from, component, 'model.onnx');
    const model = loadModel(file);
    const location = externalLocation(file);
    if (location) replaced.add(`${component}/${location}`);
    replaced.add(`${component}/model.onnx`);
    const counts = await kind.apply({ component, model, file, modelDir: from });
    saveModel(model, join(dir, component, 'model.onnx'), location ? { externalData: true, location } : {});
    record.components[component] = { ...counts, externalData: location };
  }
  copyOthers(from, dir, replaced);
  writeFileAtomic(join(dir, 'variant.json'), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** The side file the model's tensors live in, if any (the first one named). */
function externalLocation(file: string): string | null {
  const raw = onnxProto.onnx.ModelProto.decode(readFileOnce(file)) as ModelProto;
  for (const t of raw.graph?.initializer ?? []) {
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) return loc;
  }
  return null;
}

function readFileOnce(file: string): Uint8Array {
  if (!existsSync(file)) throw new UsageError(`${file}: component model not found`);
  return readFileSync(file);
}

/** Copies every file but the replaced components, the source's provenance (forge.json, variant.json) and nothing else. */
function copyOthers(from: string, to: string, replaced: ReadonlySet<string>): void {
  const skip = new Set(['forge.json', 'variant.json', ...replaced]);
  const walk = (rel: string) => {
    for (const e of readdirSync(join(from, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (!skip.has(path)) {
        mkdirSync(dirname(join(to, path)), { recursive: true });
        copyFileSync(join(from, path), join(to, path));
      }
    }
  };
  walk('');
}
