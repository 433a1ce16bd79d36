/**
 * Recording a suite case's reference build as a golden, and checking that a
 * stored golden still belongs to the suite's reference model and settings.
 * A golden whose provenance no longer matches is stale: never compared,
 * reported with the file or setting that changed.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { hashTree } from '../forge/tiny.ts';
import { generate } from '../pipeline/generate.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { backendOf, resolveModel } from '../suite/builds.ts';
import type { Suite, SuiteCase } from '../suite/load.ts';
import { readPythonJson } from '../util/json.ts';
import { writeJsonAtomic } from '../util/fs.ts';
import { shownPath } from '../util/path.ts';
import { LOCKSTEP_VERSION, ORT_VERSION } from '../version.ts';
import { type Storage, compactTrace } from './compact.ts';
import { type WriteMode, goldenCaseDir, writeGolden } from './store.ts';

export const GOLDEN_FORMAT = 'lockstep.golden/1';

export interface GoldenInfo {
  format: typeof GOLDEN_FORMAT;
  suite: string;
  case: string;
  recordedAt: string;
  storage: Storage;
  storageError: { maxAbs: number; maxRel: number } | null;
  provenance: {
    lockstep: string;
    onnxruntime: string;
    node: string;
    model: { declared: string; path: string; files: Record<string, string> };
    backend: ReturnType<typeof backendOf>;
    settings: PipelineSettings;
  };
}

export interface RecordOptions {
  root: string;
  storage: Storage;
  mode: WriteMode;
  onStep?: (done: number, total: number) => void;
}

export async function recordGolden(suite: Suite, c: SuiteCase, opts: RecordOptions): Promise<string> {
  const model = await resolveModel(suite, 'reference');
  const files = hashTree(model);
  const backend = backendOf(suite.reference);
  return writeGolden(opts.root, suite.name, c.name, opts.mode, async (tmp) => {
    const raw = join(tmp, '.raw');
    await generate({ model, settings: c.settings, backend, imageOut: join(raw, 'image.png'), traceDir: raw, onStep: opts.onStep });
    const manifest = readPythonJson(join(raw, 'manifest.json')) as Record<string, unknown>;
    // Timesteps count the U-Net calls (PNDM makes steps + 1), so they decide what to keep.
    const unetSteps = Array.isArray(manifest.timesteps) ? manifest.timesteps.length : c.settings.steps;
    const compact = compactTrace(raw, tmp, unetSteps, opts.storage);
    rmSync(raw, { recursive: true, force: true });
    const golden: GoldenInfo = {
      format: GOLDEN_FORMAT,
      suite: suite.name,
      case: c.name,
      recordedAt: new Date().toISOString(),
      storage: opts.storage,
      storageError: compact.storageError,
      provenance: {
        lockstep: LOCKSTEP_VERSION,
        onnxruntime: ORT_VERSION,
        node: process.version,
        model: { declared: suite.reference.model ?? '', path: model, files },
        backend,
        settings: c.settings,
      },
    };
    // The manifest goes last: a folder without one is never a golden.
    writeJsonAtomic(join(tmp, 'manifest.json'), { ...manifest, producer: `lockstep ${LOCKSTEP_VERSION} golden`, golden, files: compact.files });
  });
}

export function readGoldenInfo(dir: string): GoldenInfo {
  const file = join(dir, 'manifest.json');
  const m = readPythonJson(file) as { golden?: GoldenInfo };
  if (m.golden?.format !== GOLDEN_FORMAT) throw new UsageError(`${file}: not a lockstep golden (no "golden" provenance block)`);
  return m.golden;
}

/** The golden folder of a case, after checking it exists and is not stale. */
export async function freshGolden(suite: Suite, c: SuiteCase, root: string, hashes: (model: string) => Record<string, string>): Promise<string> {
  const dir = goldenCaseDir(root, suite.name, c.name);
  const shown = shownPath(dir);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new UsageError(`${shown}: no golden for case "${c.name}" of ${suite.file}; record it with: lockstep golden record ${suite.file}`);
  }
  const info = readGoldenInfo(dir);
  const model = await resolveModel(suite, 'reference');
  const why = modelChange(info.provenance.model.files, hashes(model), model) ?? settingsChange(info.provenance.settings, c.settings);
  if (why) throw new UsageError(`${shown}: stale golden: ${why}; re-record it with: lockstep golden update ${suite.file} --case ${c.name}`);
  return dir;
}

function modelChange(recorded: Record<string, string>, now: Record<string, string>, model: string): string | null {
  for (const [file, hash] of Object.entries(recorded)) {
    if (!(file in now)) return `model file ${join(model, file)} was removed since the golden was recorded`;
    if (now[file] !== hash) return `model file ${join(model, file)} changed since the golden was recorded (sha256 ${hash.slice(0, 12)}… → ${now[file].slice(0, 12)}…)`;
  }
  const added = Object.keys(now).find((f) => !(f in recorded));
  return added ? `model file ${join(model, added)} was added since the golden was recorded` : null;
}

function settingsChange(recorded: PipelineSettings, now: PipelineSettings): string | null {
  for (const key of Object.keys(now) as Array<keyof PipelineSettings>) {
    if (recorded[key] !== now[key]) return `setting "${key}" is ${JSON.stringify(now[key])} in the suite but ${JSON.stringify(recorded[key])} in the golden`;
  }
  return null;
}
