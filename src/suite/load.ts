/**
 * Reading a suite file (YAML or JSON): parse, validate against the schema,
 * and resolve everything that does not need a model (settings per case,
 * thresholds). Every error names the file and the key path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../errors.ts';
import { applyOverrides, defaultThresholds, loadThresholdsFile } from '../gates/index.ts';
import { DEFAULT_SETTINGS, DEFAULT_STRENGTH, type PipelineSettings } from '../pipeline/settings.ts';
import type { Thresholds } from '../report/schema.ts';
import { parseGates } from './gates.ts';
import { type BuildDecl, type CaseDecl, type SuiteFile, suiteSchema } from './schema.ts';

export interface SuiteCase {
  name: string;
  index: number;
  settings: PipelineSettings;
}

export interface Suite {
  /** The path as given (for messages). */
  file: string;
  /** Folder that relative paths in the suite are resolved against. */
  dir: string;
  name: string;
  reference: BuildDecl;
  candidate: BuildDecl;
  cases: SuiteCase[];
  thresholds: Thresholds;
  /** Compare against an incomplete reference trace instead of refusing it. */
  allowPartialReference: boolean;
}

export function loadSuite(file: string): Suite {
  const raw = readSuiteFile(file);
  const parsed = suiteSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(formatIssue(file, parsed.error.issues[0]));
  const s = parsed.data;
  const dir = dirname(resolve(file));
  return {
    file,
    dir,
    name: s.name,
    reference: s.reference,
    candidate: s.candidate,
    cases: s.cases.map((c, index) => ({ name: c.name, index, settings: caseSettings(s, c, dir) })),
    thresholds: suiteThresholds(s, file, dir),
    allowPartialReference: s.allowPartialReference === true,
  };
}

/**
 * Plain YAML only: an unknown tag (`!!js/function`, `!custom`) is an error, not a warning the run
 * goes on after — a suite is data, and a tag the reader skips changes what it says.
 */
function parseYaml(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new UsageError(`${file}: not valid YAML for a suite: ${problem.message.split('\n')[0]} (lockstep reads plain YAML; tags such as !!js/function are refused)`);
  return doc.toJS();
}

function readSuiteFile(file: string): unknown {
  if (!existsSync(file)) throw new UsageError(`${file}: suite file not found`);
  const text = readFileSync(file, 'utf8');
  try {
    return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text, file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `cases[1].steps: expected a positive integer`; unknown keys named one by one. */
export function formatIssue(file: string, issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  const where = path ? `${file}: ${path}` : file;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${file}: unknown key ${keys.map((k) => `"${k}"`).join(', ')}${path ? '' : ' at the top level'} (see docs/suites.md)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: required`;
  return `${where}: ${issue.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
}

function caseSettings(s: SuiteFile, c: CaseDecl, dir: string): PipelineSettings {
  const merged = { ...s.defaults, ...stripName(c) };
  const familyAndImage: Partial<PipelineSettings> = {};
  if (merged.pipeline) familyAndImage.family = merged.pipeline;
  if (merged.image) familyAndImage.image = resolve(dir, merged.image);
  if (merged.image) familyAndImage.strength = merged.strength ?? DEFAULT_STRENGTH;
  else if (merged.strength !== undefined) familyAndImage.strength = merged.strength;
  return {
    ...familyAndImage,
    prompt: merged.prompt ?? '',
    negativePrompt: merged.negativePrompt ?? DEFAULT_SETTINGS.negativePrompt,
    seed: merged.seed ?? 0,
    noise: merged.noise ?? DEFAULT_SETTINGS.noise,
    steps: merged.steps ?? DEFAULT_SETTINGS.steps,
    scheduler: merged.scheduler ?? DEFAULT_SETTINGS.scheduler,
    guidanceScale: merged.guidance ?? DEFAULT_SETTINGS.guidanceScale,
    height: merged.height ?? DEFAULT_SETTINGS.height,
    width: merged.width ?? DEFAULT_SETTINGS.width,
  };
}

function stripName(c: CaseDecl): Omit<CaseDecl, 'name'> {
  const { name: _name, ...rest } = c;
  return rest;
}

/** Defaults, then the thresholds file (e.g. noise-floor relative bounds), then the gates. */
function suiteThresholds(s: SuiteFile, file: string, dir: string): Thresholds {
  const overrides = [];
  if (s.thresholds !== undefined) {
    const path = resolve(dir, s.thresholds);
    if (!existsSync(path)) throw new UsageError(`${file}: thresholds: file not found: ${path}`);
    overrides.push(...loadThresholdsFile(path));
  }
  overrides.push(...parseGates(s.gates ?? [], file));
  return applyOverrides(defaultThresholds(), overrides);
}
