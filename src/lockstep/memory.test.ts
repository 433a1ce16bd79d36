/**
 * Memory options and decisions on the tiny model: the memory-lean session
 * options change no result, two live builds that would not fit run one at a
 * time by themselves, and a self-check holds one copy of the build.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { defaultThresholds } from '../gates/index.ts';
import { type BackendOptions, DEFAULT_BACKEND } from '../models/backend.ts';
import { loadedModels } from '../pipeline/loaded-models.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import type { ReportDocument } from '../report/schema.ts';
import { type LockstepOptions, runLockstep } from './engine.ts';

const SETTINGS: PipelineSettings = {
  prompt: 'a lighthouse at dusk',
  negativePrompt: '',
  seed: 3,
  noise: 'torch-cpu',
  steps: 2,
  scheduler: 'ddim',
  guidanceScale: 7.5,
  height: 64,
  width: 64,
};
/** ONNX Runtime's own defaults: arena, memory patterns and pre-packing all on. */
const ORT_DEFAULTS: BackendOptions = { ...DEFAULT_BACKEND, memArena: true, memPattern: true, prepacking: true };
/** Everything lean. */
const LEAN: BackendOptions = { ...DEFAULT_BACKEND, memArena: false, memPattern: false, prepacking: false };

let reference: string;
let candidate: string;
const tmp = () => mkdtempSync(join(tmpdir(), 'lockstep-memory-'));

beforeAll(async () => {
  reference = await ensureTinyModel(0);
  candidate = await ensureTinyModel(1);
});

function compare(backend: BackendOptions, extra: Partial<LockstepOptions> = {}): Promise<ReportDocument> {
  return runLockstep({
    reference: { path: reference, backend },
    candidate: { path: candidate, backend },
    settings: SETTINGS,
    thresholds: defaultThresholds(),
    reportDir: tmp(),
    ...extra,
  });
}

let lockstepDefaults: Promise<ReportDocument> | undefined;
/** The comparison under lockstep's defaults, run once for the tests that need it. */
const defaultCompare = () => (lockstepDefaults ??= compare(DEFAULT_BACKEND));

/** Everything report.json says that the builds computed. */
const results = (r: ReportDocument) => JSON.stringify({ components: r.components, steps: r.steps, final: r.final });

describe('memory options', () => {
  it('lockstep defaults: the builds differ, so the metrics are far from trivial', async () => {
    const r = await defaultCompare();
    expect(r.steps[1].freeRunning.latents!.maxAbs).toBeGreaterThan(0);
    expect(r.components.vaeDecoder!.maxAbs).toBeGreaterThan(0);
    expect(r.builds.candidate.backend).toMatchObject({ memArena: DEFAULT_BACKEND.memArena, memPattern: DEFAULT_BACKEND.memPattern, prepacking: DEFAULT_BACKEND.prepacking });
  });

  it("report.json metrics are bitwise identical under ONNX Runtime's defaults (arena, patterns, pre-packing on)", async () => {
    expect(results(await compare(ORT_DEFAULTS))).toBe(results(await defaultCompare()));
  });

  it('report.json metrics are bitwise identical with all three off', async () => {
    const lean = await compare(LEAN);
    expect(lean.builds.candidate.backend).toMatchObject({ memArena: false, memPattern: false, prepacking: false });
    expect(results(lean)).toBe(results(await defaultCompare()));
  });
});

describe('memory plan', () => {
  it('two live builds that would not fit run sequentially by themselves, saying so', async () => {
    const notices: string[] = [];
    const live = await defaultCompare();
    const auto = await compare(DEFAULT_BACKEND, { availableMemory: 1024, onNotice: (m) => notices.push(m) });
    expect(live.memory).toMatchObject({ sequential: false, requested: 'auto' });
    expect(auto.memory).toMatchObject({ sequential: true, requested: 'auto', availableBytes: 1024 });
    expect(auto.memory!.estimatedBothLiveBytes).toBeGreaterThan(1024);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/two live builds need an estimated .* but 1\.00 KiB is available: running sequentially/);
    expect(auto.findings.some((f) => f.message === notices[0])).toBe(true);
    expect(auto.findings.some((f) => /sequential mode: the reference ran first/.test(f.message))).toBe(true);
    expect(results(auto)).toBe(results(live));
  });

  it('--no-sequential holds both builds even when the estimate says they do not fit', async () => {
    const r = await compare(DEFAULT_BACKEND, { availableMemory: 1024, sequential: false });
    expect(r.memory).toMatchObject({ sequential: false, requested: 'live' });
  });
});

describe('loaded builds', () => {
  it('a self-check holds one set of sessions, counted once in the ORT time', async () => {
    const build = { path: reference, backend: DEFAULT_BACKEND };
    const opened = { count: 0 };
    const r = await runLockstep({
      reference: build,
      candidate: { ...build, label: 'candidate' },
      settings: SETTINGS,
      thresholds: defaultThresholds(),
      reportDir: tmp(),
      onStep: () => {
        opened.count = Math.max(opened.count, loadedModels.size);
      },
    });
    expect(opened.count).toBe(1);
    expect(loadedModels.size).toBe(0);
    expect(r.verdict).toBe('pass');
    expect(r.memory).toMatchObject({ sequential: false, estimatedBothLiveBytes: null });
    expect(r.findings.some((f) => /same build .* one set of ONNX Runtime sessions served both/.test(f.message))).toBe(true);
    expect(r.timing.ortSessionSeconds).toBeGreaterThan(0);
    expect(r.timing.ortSeconds + r.timing.ortSessionSeconds!).toBeLessThanOrEqual(r.timing.wallSeconds);
  });
});
