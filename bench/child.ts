/**
 * One measured job in its own process, so its peak RSS is its own:
 * `node --import tsx bench/child.ts '<json job>'` prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgePipeline } from '../src/forge/tiny.ts';
import { defaultThresholds } from '../src/gates/defaults.ts';
import { runLockstep } from '../src/lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../src/models/backend.ts';
import { generate } from '../src/pipeline/generate.ts';
import { loadPipelineModel } from '../src/pipeline/load.ts';
import type { PipelineSettings } from '../src/pipeline/settings.ts';
import { loadSuite } from '../src/suite/load.ts';
import { loadSharp } from '../src/util/sharp.ts';
import { writeSuiteOutputs } from '../src/suite/outputs.ts';
import { runSuite } from '../src/suite/run.ts';
import { peakRssBytes } from './peak-rss.ts';
import { BENCH_PRESETS } from './sdxl-full.ts';
import { jobSettings } from './job-settings.ts';
import { writeBenchSuite } from './suite-file.ts';

export interface RunJob {
  kind: 'generate' | 'compare';
  model: string;
  steps: number;
  /** Image height and width in pixels. */
  size: number;
  /** Settings that differ from the bench's defaults (a family's guidance, scheduler, image-to-image input). */
  settings?: Partial<PipelineSettings>;
}
/** Two builds of the same weights that are not the same build: a hard-linked copy of the model folder as candidate. */
export interface CompareJob extends RunJob {
  kind: 'compare';
  candidate?: string;
}
/** A suite of `cases` cases (seeds 0…), tiny seed 0 against tiny seed 1. */
export interface SuiteJob {
  kind: 'suite';
  cases: number;
  steps: number;
  size: number;
}
export type Job = RunJob | CompareJob | SuiteJob | { kind: 'load'; model: string } | { kind: 'forge'; preset: string; out: string; seed: number };

async function runGenerate(job: RunJob, tmp: string) {
  const start = performance.now();
  let firstStepSeconds = NaN;
  const r = await generate({
    model: job.model,
    settings: jobSettings(job),
    backend: DEFAULT_BACKEND,
    imageOut: join(tmp, 'image.png'),
    onStep: (done) => {
      if (done === 1) firstStepSeconds = (performance.now() - start) / 1000;
    },
  });
  return { wallSeconds: r.wallSeconds, ortSeconds: r.ortSeconds, ortCalls: r.ortCalls, ortSessionSeconds: r.ortSessionSeconds, firstStepSeconds };
}

async function runCompare(job: CompareJob, tmp: string) {
  const build = { path: job.model, backend: DEFAULT_BACKEND };
  const report = await runLockstep({
    reference: build,
    candidate: { path: job.candidate ?? job.model, backend: DEFAULT_BACKEND, label: 'candidate' },
    settings: jobSettings(job),
    thresholds: defaultThresholds(),
    reportDir: join(tmp, 'report'),
  });
  const { wallSeconds, ortSeconds, ortSessionSeconds } = report.timing!;
  return { wallSeconds, ortSeconds, ortSessionSeconds, steps: report.steps.length, sequential: report.memory?.sequential ? 1 : 0 };
}

/** `lockstep run` of a suite in this process: loading the suite, every case, the suite outputs. */
async function runSuiteJob(job: SuiteJob, tmp: string) {
  const file = writeBenchSuite(tmp, job.cases, job.steps, job.size);
  const start = performance.now();
  const suite = loadSuite(file);
  const reportsDir = join(tmp, 'reports');
  const results = await runSuite(suite, { cases: suite.cases, reportsDir, golden: false, goldenDir: join(tmp, 'golden') });
  writeSuiteOutputs(suite, results, { reportsDir });
  const failed = results.filter((r) => r.error).map((r) => r.error);
  if (failed.length > 0) throw new Error(`suite cases could not run: ${failed.join('; ')}`);
  return { wallSeconds: (performance.now() - start) / 1000, cases: results.length };
}

/** Opening the three ORT sessions (+ tokenizer, scheduler config) and releasing them. */
async function runLoad(model: string) {
  const start = performance.now();
  const loaded = await loadPipelineModel(model, DEFAULT_BACKEND);
  const loadSeconds = (performance.now() - start) / 1000;
  await loaded.onnx.release();
  return { loadSeconds };
}

async function main(job: Job): Promise<Record<string, unknown>> {
  if (job.kind === 'load') return runLoad(job.model);
  if (job.kind === 'forge') {
    const start = performance.now();
    const r = forgePipeline({ outDir: job.out, seed: job.seed, config: BENCH_PRESETS[job.preset] });
    return { wallSeconds: (performance.now() - start) / 1000, files: Object.keys(r.files).length };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'lockstep-bench-'));
  try {
    if (job.kind === 'suite') return await runSuiteJob(job, tmp);
    return job.kind === 'generate' ? await runGenerate(job, tmp) : await runCompare(job as CompareJob, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const job = JSON.parse(process.argv[2]) as Job;
// Every module a job may use is loaded before its clock starts, as the static imports above: lockstep loads
// sharp (≈ 0.1 s of libvips) only on first use, which would otherwise fall inside the first run that reads an image.
await loadSharp();
const result = await main(job);
process.stdout.write(`${JSON.stringify({ ...result, peakRssBytes: peakRssBytes() })}\n`);
