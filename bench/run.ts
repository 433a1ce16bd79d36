/**
 * `npm run bench`: timing ratios and memory of lockstep itself, measured in one
 * run; prints them and writes reports/bench/bench.json. The sd15 part runs only
 * with LOCKSTEP_BENCH_SD15=1 and ≥ 16 GB available, the sdxl-full generate only
 * with LOCKSTEP_BENCH_SDXL=1 and its projected peak available (docs/benchmarks.md).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureForgedModel, ensureTinyModel, MODELS_CACHE_DIR } from '../src/forge/cache.ts';
import { FORGE_VERSION } from '../src/forge/version.ts';
import { readModelFootprint } from '../src/models/memory-estimate.ts';
import type { Job } from './child.ts';
import { DIFFUSERS_GROUP, FAMILY_SIZE, type FamilyCase, type FamilyMedians, FORGED_PRESETS, familyJob, forgedGroup, type GenerateTimes, median, medians, type PairedDifference, pairedDifference } from './families.ts';
import { availableMemory, machine, round } from './machine.ts';
import { freeDiskBytes, SDXL_BASE_PARAMS, sdxlFit, sdxlForgeSeconds } from './sdxl-fit.ts';
import { measureStartup } from './startup.ts';
import { writeBenchSuite } from './suite-file.ts';
import { FAMILY_BASE_REV, openRevWorktree } from './rev-worktree.ts';
import { measureThroughput } from './throughput.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'reports', 'bench', 'bench.json');
const GiB = 2 ** 30;
const SD15_MIN_FREE = 16e9;

interface Figure {
  name: string;
  value: number;
  unit: string;
  target?: string;
  met?: boolean;
  /** The same figure of the run this one is held against (the per-family lines: SD 1.x's). */
  baseline?: { label: string; value: number };
}

const figures: Figure[] = [];
function report(name: string, value: number, unit: string, target?: { text: string; ok: (v: number) => boolean }, baseline?: Figure['baseline']): void {
  const f: Figure = { name, value: round(value, 4), unit, ...(target && { target: target.text, met: target.ok(value) }), ...(baseline && { baseline: { ...baseline, value: round(baseline.value, 4) } }) };
  figures.push(f);
  const beside = baseline ? `  [${baseline.label}: ${round(baseline.value, 3)}]` : '';
  const verdict = target ? `  (target ${target.text}: ${f.met ? 'met' : 'NOT met'})` : '';
  process.stdout.write(`  ${name.padEnd(56)} ${String(round(value, 3)).padStart(10)} ${unit}${beside}${verdict}\n`);
}

/** Runs one job in a child process; returns its JSON result (with peakRssBytes). */
function child(job: Job): Record<string, number> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'child.ts'), JSON.stringify(job)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`bench job ${job.kind} failed (exit ${r.status}): ${r.stdout}`);
  return JSON.parse(last);
}

interface PipelineTargets {
  overheadPercent: number;
  compareRatio: number;
  /** generate's peak RSS ≤ this × the model's weight bytes. */
  generateRssPerWeight: number;
  /** compare of two different live builds: peak RSS ≤ this many GiB. */
  compareRssGiB: number;
}

/** The model's weights as ORT loads them: every component's model.onnx and external data. */
function weightBytes(model: string): number {
  return Object.values(readModelFootprint(model).weightBytes).reduce((a, b) => a + b, 0);
}

/**
 * A second build with the same weights: the folder hard-linked (no disk space,
 * no copy), so lockstep sees another model folder and loads it a second time,
 * as it would a candidate that differs.
 */
function secondBuild(model: string): string {
  const copy = `${model}-copy`;
  if (existsSync(join(copy, 'forge.json'))) return copy;
  const tmp = `${copy}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(model, tmp, { recursive: true, mode: 0 });
  for (const f of listFiles(model)) {
    rmSync(join(tmp, f));
    linkSync(join(model, f), join(tmp, f));
  }
  renameSync(tmp, copy);
  return copy;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/**
 * generate and compare against the bare onnxruntime calls they need: creating
 * (and releasing) the sessions, and run(). `tag` prefixes the figure names;
 * targets apply where given (the sd15 preset).
 */
function pipelineFigures(tag: string, model: string, steps: number, size: number, targets?: PipelineTargets): void {
  report(`${tag} model load (3 sessions, own process)`, child({ kind: 'load', model }).loadSeconds, 's');
  const gen = child({ kind: 'generate', model, steps, size });
  ortFigures(`${tag} generate`, gen, targets && { overheadPercent: targets.overheadPercent });
  report(`${tag} time to first step`, gen.firstStepSeconds, 's');
  const cmp = child({ kind: 'compare', model, candidate: secondBuild(model), steps, size });
  ortFigures(`${tag} compare (two live builds)`, cmp, targets);
  if (cmp.sequential) process.stdout.write(`  ${tag} compare ran sequentially by itself (two live builds would not fit in the memory available)\n`);
  const weights = weightBytes(model);
  report(`${tag} model weight bytes`, weights / GiB, 'GiB');
  const perWeight = targets?.generateRssPerWeight;
  report(`${tag} generate peak RSS`, gen.peakRssBytes / GiB, 'GiB');
  report(`${tag} generate peak RSS / weight bytes`, gen.peakRssBytes / weights, '×', perWeight === undefined ? undefined : { text: `≤ ${perWeight}×`, ok: (v) => v <= perWeight });
  const cmpGiB = targets?.compareRssGiB;
  report(`${tag} compare peak RSS (two live builds${cmp.sequential ? ', sequential' : ''})`, cmp.peakRssBytes / GiB, 'GiB', cmpGiB === undefined ? undefined : { text: `≤ ${cmpGiB} GiB`, ok: (v) => v <= cmpGiB });
  report(`${tag} compare peak RSS / weight bytes`, cmp.peakRssBytes / weights, '×');
  const self = child({ kind: 'compare', model, steps, size });
  report(`${tag} self-check (one build as both sides) peak RSS`, self.peakRssBytes / GiB, 'GiB');
}

/** One job's wall time against its ORT time (sessions + runs), as a ratio and as overhead. */
function ortFigures(name: string, r: Record<string, number>, targets?: Partial<PipelineTargets>): void {
  const ort = r.ortSeconds + r.ortSessionSeconds;
  report(`${name} wall`, r.wallSeconds, 's');
  report(`${name} ORT run() sum${r.ortCalls ? ` (${r.ortCalls} calls)` : ''}`, r.ortSeconds, 's');
  report(`${name} ORT session create + release`, r.ortSessionSeconds, 's');
  const ratio = targets?.compareRatio;
  report(`${name} wall / ORT (sessions + runs)`, r.wallSeconds / ort, '×', ratio === undefined ? undefined : { text: `≤ ${ratio}×`, ok: (v) => v <= ratio });
  const percent = targets?.overheadPercent;
  report(`${name} overhead (wall − ORT) / wall`, (100 * (r.wallSeconds - ort)) / r.wallSeconds, '%', percent === undefined ? undefined : { text: `≤ ${percent}%`, ok: (v) => v <= percent });
}

async function tiny(): Promise<void> {
  process.stdout.write('tiny model (10 steps, 128×128, guidance 7.5)\n');
  const model = await ensureTinyModel(0);
  pipelineFigures('tiny', model, 10, 128);
  const candidate = secondBuild(model);
  const rss10 = child({ kind: 'compare', model, candidate, steps: 10, size: 128 }).peakRssBytes;
  const rss50 = child({ kind: 'compare', model, candidate, steps: 50, size: 128 }).peakRssBytes;
  report('tiny compare peak RSS, 10 steps', rss10 / GiB, 'GiB');
  report('tiny compare peak RSS, 50 steps', rss50 / GiB, 'GiB');
  report('tiny compare peak RSS 50 / 10 steps', rss50 / rss10, '×', { text: '≤ 1.10× (flat)', ok: (v) => v <= 1.1 });
  suiteFigures();
}

/**
 * `lockstep run` of a tiny suite (reference tiny seed 0, candidate tiny seed 1,
 * 3 steps at 64×64 like suites/tiny-*.yaml), 1 case vs 4: the whole command
 * in its own process, and the suite itself inside it (load, cases, outputs).
 */
function cliSuiteSeconds(cases: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-suite-'));
  try {
    const file = writeBenchSuite(dir, cases, 3, 64);
    const start = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'lockstep.mjs'), 'run', file, '--reports', join(dir, 'reports'), '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    const seconds = (performance.now() - start) / 1000;
    if (r.status !== 0 && r.status !== 1) throw new Error(`bench suite (${cases} cases) failed (exit ${r.status}): ${r.stderr}`);
    return seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** LOCKSTEP_BENCH_SUITE_ROUNDS (default 5): interleaved rounds of the 1- and 4-case suites. */
const suiteRounds = (): number => Number(process.env.LOCKSTEP_BENCH_SUITE_ROUNDS ?? 5);

/**
 * One sample of each is at the mercy of a single stall (on this 2-core machine one 4-case run took
 * 4.3 s where its neighbours took 3.2-3.4 s), so the two suites run interleaved, `suiteRounds()` times
 * each, and the medians are compared.
 */
function suiteFigures(): void {
  const rounds = suiteRounds();
  const samples = { 1: [] as Record<string, number>[], 4: [] as Record<string, number>[] };
  for (let r = 0; r < rounds; r++) {
    for (const cases of r % 2 === 0 ? ([1, 4] as const) : ([4, 1] as const)) {
      samples[cases].push({ ...child({ kind: 'suite', cases, steps: 3, size: 64 }), processSeconds: cliSuiteSeconds(cases) });
    }
  }
  const med = (cases: 1 | 4, key: string) => median(samples[cases].map((s) => s[key]));
  process.stdout.write(`  (medians of ${rounds} interleaved rounds)\n`);
  report('tiny suite, 1 case: process wall', med(1, 'processSeconds'), 's');
  report('tiny suite, 4 cases: process wall', med(4, 'processSeconds'), 's');
  report('tiny suite 4 / 1 cases, process wall', med(4, 'processSeconds') / med(1, 'processSeconds'), '×', { text: '≤ 1.6×', ok: (v) => v <= 1.6 });
  report('tiny suite, 1 case: in-process wall', med(1, 'wallSeconds'), 's');
  report('tiny suite, 4 cases: in-process wall', med(4, 'wallSeconds'), 's');
  report('tiny suite 4 / 1 cases, in-process wall', med(4, 'wallSeconds') / med(1, 'wallSeconds'), '×');
}

/** LOCKSTEP_BENCH_FAMILY_ROUNDS (default 9): interleaved rounds of every family case. */
const familyRounds = (): number => Number(process.env.LOCKSTEP_BENCH_FAMILY_ROUNDS ?? 9);

/**
 * Each family's generate against its bare ORT calls, next to SD 1.x's figure
 * from the same rounds (bench/families.ts), for the diffusers-built models and
 * the forged presets. All cases of both groups run interleaved, the order
 * rotating from round to round, so none always runs first or right after another.
 * The target is issue #11's: no more than SD 1.x "today", i.e. SD 1.x's generate
 * at the commit before the families (bench/rev-worktree.ts), run in the same
 * rounds; without that commit (no git history) today's SD 1.x stands in.
 */
async function families(): Promise<Record<string, unknown>> {
  const rounds = familyRounds();
  const forged: Record<string, string> = {};
  for (const preset of FORGED_PRESETS) forged[preset] = await ensureForgedModel(preset, 0);
  const groups = [DIFFUSERS_GROUP, forgedGroup((preset) => forged[preset])];
  const baseRev = process.env.LOCKSTEP_BENCH_FAMILY_BASE ?? FAMILY_BASE_REV;
  const opened = baseRev ? openRevWorktree(ROOT, baseRev) : { unavailable: 'LOCKSTEP_BENCH_FAMILY_BASE is empty' };
  const old = 'unavailable' in opened ? undefined : opened;
  try {
    type Entry = { c: FamilyCase; old: boolean };
    const entries: Entry[] = groups.flatMap((g) => [...(old ? [{ c: g.baseline, old: true }] : []), ...[g.baseline, ...g.cases].map((c) => ({ c, old: false }))]);
    process.stdout.write(`pipeline families: generate, ${FAMILY_SIZE}×${FAMILY_SIZE}, seed 42; medians of ${rounds} interleaved rounds, each run its own process
`);
    process.stdout.write(old ? `  target: ≤ SD 1.x at ${old.rev} (the commit before the families), paired by round
` : `  SD 1.x before the families not run (${(opened as { unavailable: string }).unavailable}): target against today's SD 1.x
`);
    const runs = new Map<Entry, GenerateTimes[]>(entries.map((e) => [e, []]));
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < entries.length; k++) {
        const e = entries[(k + r) % entries.length];
        runs.get(e)!.push(e.old ? old!.generate(familyJob(e.c)) : (child(familyJob(e.c)) as unknown as GenerateTimes));
      }
    }
    const of = (c: FamilyCase, isOld = false) => runs.get(entries.find((e) => e.c === c && e.old === isOld)!)!;
    const record = groups.map((g) => {
      process.stdout.write(` ${g.name}
`);
      const baseRuns = of(g.baseline);
      const oldRuns = old ? of(g.baseline, true) : undefined;
      const base = medians(baseRuns);
      if (oldRuns) familyLines(`${g.baseline.label} at ${old!.rev}`, 'SD 1.x before the pipeline families', medians(oldRuns), undefined, {}, false);
      // Each case paired once: with this run's SD 1.x (not the baseline itself) and with the old commit's.
      const pairs = new Map<FamilyCase, FamilyPairs>(
        [g.baseline, ...g.cases].map((c) => [
          c,
          { ...(c !== g.baseline && { today: pairedDifference(of(c), baseRuns) }), ...(oldRuns && { before: pairedDifference(of(c), oldRuns) }) },
        ]),
      );
      familyLines(g.baseline.label, g.baseline.differs, base, undefined, pairs.get(g.baseline)!, false);
      for (const c of g.cases) familyLines(c.label, c.differs, medians(of(c)), base, pairs.get(c)!);
      return {
        name: g.name,
        ...(oldRuns && { sd1xAtRev: { rev: old!.rev, medians: medians(oldRuns), runs: oldRuns } }),
        cases: [g.baseline, ...g.cases].map((c) => ({
          label: c.label,
          ...familyJob(c),
          differs: c.differs,
          medians: medians(of(c)),
          ...(pairs.get(c)!.today && { pairedWithBaseline: pairs.get(c)!.today }),
          ...(pairs.get(c)!.before && { pairedWithRev: pairs.get(c)!.before }),
          runs: of(c),
        })),
      };
    });
    return { rounds, size: FAMILY_SIZE, baseRev: old?.rev ?? null, groups: record };
  } finally {
    old?.close();
  }
}

interface FamilyPairs {
  /** Against SD 1.x of this run. */
  today?: PairedDifference;
  /** Against SD 1.x at the commit before the families: the target when present. */
  before?: PairedDifference;
}

/** `targeted`: a family case, judged by its pairs; SD 1.x's own lines are figures only. */
function familyLines(label: string, differs: string, m: FamilyMedians, base: FamilyMedians | undefined, pairs: FamilyPairs, targeted = true): void {
  process.stdout.write(`  ${label}: ${differs}\n`);
  const tag = `family ${label} generate`;
  const sd = (value: number) => (base ? { label: 'SD 1.x', value } : undefined);
  const percent = (x: FamilyMedians) => (100 * x.overheadSeconds) / x.wallSeconds;
  report(`${tag} wall`, m.wallSeconds, 's', undefined, sd(base?.wallSeconds ?? 0));
  report(`${tag} ORT run() sum (${m.ortCalls} calls)`, m.ortSeconds, 's', undefined, sd(base?.ortSeconds ?? 0));
  report(`${tag} ORT session create + release`, m.ortSessionSeconds, 's', undefined, sd(base?.ortSessionSeconds ?? 0));
  report(`${tag} wall / ORT (sessions + runs)`, m.ratio, '×', undefined, sd(base?.ratio ?? 0));
  // In points of ORT time (wall / ORT − 1 is lockstep's own time as a share of ORT's): 0.004× reads as 0.4.
  const noise = (p: PairedDifference) => `median of ${p.rounds} rounds, standard error ${round(100 * p.standardError, 2)}`;
  const target = targeted ? { text: '≤ 0', ok: (v: number) => v <= 0 } : undefined;
  if (pairs.today) report(`${tag} wall / ORT − today's SD 1.x's, paired (${noise(pairs.today)})`, 100 * pairs.today.median, '% of ORT', pairs.before ? undefined : target);
  if (pairs.before) report(`${tag} wall / ORT − SD 1.x's before the families, paired (${noise(pairs.before)})`, 100 * pairs.before.median, '% of ORT', target);
  report(`${tag} overhead wall − ORT`, m.overheadSeconds, 's', undefined, sd(base?.overheadSeconds ?? 0));
  report(`${tag} overhead (wall − ORT) / wall`, percent(m), '%', undefined, sd(base ? percent(base) : 0));
  report(`${tag} peak RSS`, m.peakRssBytes / GiB, 'GiB', undefined, sd((base?.peakRssBytes ?? 0) / GiB));
}

function startup(): void {
  process.stdout.write('CLI start-up, compiled package as installed, against `node -e 0` (medians of 15 interleaved runs)\n');
  const s = measureStartup(ROOT);
  report('node -e 0', s.nodeMs, 'ms');
  report('lockstep --version', s.versionMs, 'ms');
  report('lockstep --help', s.helpMs, 'ms');
  report('lockstep noise --shape 1,4,64,64', s.noiseMs, 'ms');
  report('lockstep --version / node -e 0', s.versionMs / s.nodeMs, '×', { text: '≤ 3×', ok: (v) => v <= 3 });
  report('lockstep --help / node -e 0', s.helpMs / s.nodeMs, '×', { text: '≤ 3×', ok: (v) => v <= 3 });
  report('lockstep noise --shape 1,4,64,64 / node -e 0', s.noiseMs / s.nodeMs, '×', { text: '≤ 4×', ok: (v) => v <= 4 });
  report('lockstep --version from the sources (checkout, tsx)', s.sourcesVersionMs, 'ms');
  report('lockstep --version from the sources / node -e 0', s.sourcesVersionMs / s.nodeMs, '×');
}

function metrics(): void {
  process.stdout.write('compareTensors vs Float32Array.prototype.set on the same two float32 tensors\n');
  // The target is about memory bandwidth: tensors far larger than the caches. A latent (64 KiB) sits in
  // L1/L2, where a copy runs at cache speed and float64 arithmetic, not memory, bounds the metrics.
  const sizes = [
    ['1×4×64×64 (in cache)', 4 * 64 * 64, undefined],
    ['16M elements (from memory)', 16 * 2 ** 20, { text: '≥ 50%', ok: (v: number) => v >= 50 }],
  ] as const;
  for (const [label, n, target] of sizes) {
    const t = measureThroughput(n);
    report(`compareTensors ${label}`, t.compareGBps, 'GB/s');
    report(`compareTensors, scalar path ${label}`, t.scalarGBps, 'GB/s');
    report(`errorStatistics (separate pass) ${label}`, t.statsGBps, 'GB/s');
    report(`copy ${label}`, t.copyGBps, 'GB/s');
    report(`compare / copy ${label}`, 100 * t.ratio, '%', target);
  }
}

/** Why the sd15 part is skipped, or undefined when it runs. */
function sd15SkipReason(): string | undefined {
  if (process.env.LOCKSTEP_BENCH_SD15 !== '1') return 'LOCKSTEP_BENCH_SD15 is not 1 (set it to run the SD 1.5-sized bench: ~4 GB on disk, ≥ 16 GB RAM, minutes)';
  const free = availableMemory();
  if (free < SD15_MIN_FREE) return `only ${(free / 1e9).toFixed(1)} GB of memory available, the sd15 bench needs ≥ 16 GB`;
  return undefined;
}

function sd15(): void {
  const { size, steps } = sd15Run();
  process.stdout.write(`sd15 preset (${steps} step${steps === 1 ? '' : 's'}, ${size}×${size}, guidance 7.5)\n`);
  const model = join(MODELS_CACHE_DIR, `sd15-seed0-v${FORGE_VERSION}`);
  if (existsSync(join(model, 'forge.json'))) {
    process.stdout.write(`  forge: reusing ${model} (delete it to measure the forge again)\n`);
  } else {
    const tmp = `${model}.tmp-${process.pid}`;
    const f = child({ kind: 'forge', preset: 'sd15', out: tmp, seed: 0 });
    renameSync(tmp, model);
    report('sd15 forge wall', f.wallSeconds, 's');
    report('sd15 forge peak RSS', f.peakRssBytes / GiB, 'GiB');
  }
  pipelineFigures('sd15', model, steps, size, { overheadPercent: 3, compareRatio: 1.05, generateRssPerWeight: 1.5, compareRssGiB: 12 });
}

/** While other work shares the machine, no bench job may exceed this (the sd15 part asks for LOCKSTEP_BENCH_SD15=1). */
const SHARED_MACHINE_CAP = 8 * GiB;

/**
 * An SDXL-shaped preset (SDXL base 1.0's sizes, float32): whether it would fit, from its real
 * parameter counts, lockstep's memory estimate and the SD 1.5 measurements (bench/sdxl-fit.ts),
 * printed and recorded; with LOCKSTEP_BENCH_SDXL=1 (an idle machine), forge it, load and generate.
 */
function sdxl(): Record<string, unknown> {
  process.stdout.write('sdxl-full (SDXL base 1.0 sizes, float32): would it fit? (computed; nothing built)\n');
  const weights = Object.values(SDXL_BASE_PARAMS).reduce((a, b) => a + b, 0) * 4;
  for (const [c, n] of Object.entries(SDXL_BASE_PARAMS)) report(`sdxl-full ${c} weights (${(n / 1e6).toFixed(1)} M parameters)`, (n * 4) / GiB, 'GiB');
  report('sdxl-full weights, all components', weights / GiB, 'GiB');
  const fits = [1024, 512].map((size) => sdxlFit(size));
  for (const f of fits) {
    report(`sdxl-full ${f.size}² lockstep estimate (as implemented)`, f.estimate.total / GiB, 'GiB');
    report(`sdxl-full ${f.size}² estimate + text_encoder_2, VAE encoder, per-level heads`, f.completedBytes / GiB, 'GiB');
    report(`sdxl-full ${f.size}² generate U-Net stage (weights held + activations)`, f.unetStageBytes / GiB, 'GiB');
    report(`sdxl-full ${f.size}² generate projected peak (× SD 1.5's measured / projected)`, f.projectedPeakBytes / GiB, 'GiB');
  }
  report('sdxl-full SD 1.5\'s measured 1.453× weights applied', fits[0].sd15ScaledBytes / GiB, 'GiB');
  report('sdxl-full disk (float32 weights)', weights / 1e9, 'GB');
  report('sdxl-full free disk here', freeDiskBytes(ROOT) / 1e9, 'GB');
  report('sdxl-full forge, extrapolated from the sd15 forge', sdxlForgeSeconds(), 's');
  const total = totalmem();
  const smallest = Math.min(...fits.map((f) => f.projectedPeakBytes));
  const verdict =
    smallest > total * 0.9
      ? `does not fit: generate's projected peak at 512² is ${(smallest / GiB).toFixed(1)} GiB on a ${(total / GiB).toFixed(1)} GiB machine`
      : `generate would fit this ${(total / GiB).toFixed(1)} GiB machine alone (projected peak ${(smallest / GiB).toFixed(1)} GiB at 512², ` +
        `${(fits[0].projectedPeakBytes / GiB).toFixed(1)} GiB at 1024²; compare of two live builds would run sequentially), but not while it is shared: ` +
        `the U-Net's float32 weights alone are ${((SDXL_BASE_PARAMS.unet * 4) / GiB).toFixed(1)} GiB, above the ${SHARED_MACHINE_CAP / GiB} GiB a bench job may take then: run it (LOCKSTEP_BENCH_SDXL=1) on an otherwise idle machine`;
  process.stdout.write(`  sdxl-full: ${verdict}\n`);
  const fit = { verdict, params: SDXL_BASE_PARAMS, fits: fits.map((f) => ({ size: f.size, estimateBytes: f.estimate.total, completedBytes: f.completedBytes, unetStageBytes: f.unetStageBytes, projectedPeakBytes: f.projectedPeakBytes })) };
  const { preset, size, steps } = sdxlRun();
  const skip = sdxlSkipReason(preset, size);
  if (skip) {
    process.stdout.write(`  ${preset} generate: skipped — ${skip}\n`);
    return { ...fit, run: { skipped: skip } };
  }
  return { ...fit, run: { preset, size, steps, ...sdxlGenerate(preset, size, steps) } };
}

/** LOCKSTEP_BENCH_SDXL_PRESET (default sdxl-full; `sdxl` runs the same part on the tiny preset), _SIZE (512), _STEPS (1). */
function sdxlRun(): { preset: string; size: number; steps: number } {
  const env = process.env;
  return { preset: env.LOCKSTEP_BENCH_SDXL_PRESET ?? 'sdxl-full', size: Number(env.LOCKSTEP_BENCH_SDXL_SIZE ?? 512), steps: Number(env.LOCKSTEP_BENCH_SDXL_STEPS ?? 1) };
}

/** sdxl-full runs only when asked and when its projected peak, plus 2 GiB, is available: run it on an otherwise idle machine. */
function sdxlSkipReason(preset: string, size: number): string | undefined {
  if (process.env.LOCKSTEP_BENCH_SDXL !== '1') return 'LOCKSTEP_BENCH_SDXL is not 1 (set it on an otherwise idle machine: ~14 GB on disk, forge ~1–4 min, generate peaked at 11.3 GiB at 512²)';
  if (preset !== 'sdxl-full') return undefined;
  const need = sdxlFit(size).projectedPeakBytes + 2 * GiB;
  const free = availableMemory();
  if (free < need) return `only ${(free / GiB).toFixed(1)} GiB available, generate at ${size}² is projected to peak at ${((need - 2 * GiB) / GiB).toFixed(1)} GiB (+ 2 GiB margin)`;
  return undefined;
}

/** Forges the preset (reused when present), then load and generate, each in its own process; no compare (two builds would not fit). */
function sdxlGenerate(preset: string, size: number, steps: number): Record<string, unknown> {
  const tag = `${preset} (${steps} step${steps === 1 ? '' : 's'}, ${size}²)`;
  const model = join(MODELS_CACHE_DIR, `${preset}-bench-seed0-v${FORGE_VERSION}`);
  let forged: Record<string, number> | undefined;
  if (!existsSync(join(model, 'forge.json'))) {
    const tmp = `${model}.tmp-${process.pid}`;
    forged = child({ kind: 'forge', preset, out: tmp, seed: 0 });
    renameSync(tmp, model);
    report(`${preset} forge wall`, forged.wallSeconds, 's');
    report(`${preset} forge peak RSS`, forged.peakRssBytes / GiB, 'GiB');
  }
  report(`${tag} model load (own process)`, child({ kind: 'load', model }).loadSeconds, 's');
  const gen = child({ kind: 'generate', model, steps, size, settings: { guidanceScale: 5, negativePrompt: 'low resolution, blurry' } });
  ortFigures(`${tag} generate`, gen);
  const weights = weightBytes(model);
  report(`${tag} generate peak RSS`, gen.peakRssBytes / GiB, 'GiB');
  report(`${tag} generate peak RSS / weight bytes (text_encoder, unet, vae_decoder)`, gen.peakRssBytes / weights, '×');
  if (preset === 'sdxl-full') report(`${tag} generate peak RSS / projected`, gen.peakRssBytes / sdxlFit(size).projectedPeakBytes, '×');
  return { model, forged, generate: gen, weightBytes: weights };
}

/** LOCKSTEP_BENCH_SD15_SIZE (default 512) and LOCKSTEP_BENCH_SD15_STEPS (default 1: model load is then not amortised). */
function sd15Run(): { size: number; steps: number } {
  return { size: Number(process.env.LOCKSTEP_BENCH_SD15_SIZE ?? 512), steps: Number(process.env.LOCKSTEP_BENCH_SD15_STEPS ?? 1) };
}

const PARTS = ['startup', 'metrics', 'tiny', 'families', 'sdxl', 'sd15'] as const;

/** LOCKSTEP_BENCH_ONLY=families,tiny runs only those parts (default: all; sd15 still needs LOCKSTEP_BENCH_SD15=1). */
function parts(): Set<string> {
  const only = process.env.LOCKSTEP_BENCH_ONLY;
  if (!only) return new Set(PARTS);
  const asked = only.split(',').map((p) => p.trim());
  const unknown = asked.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`LOCKSTEP_BENCH_ONLY: unknown part ${unknown.join(', ')} (parts: ${PARTS.join(', ')})`);
  return new Set(asked);
}

async function main(): Promise<void> {
  const run = parts();
  const m = machine();
  process.stdout.write(`${m.cpuModel}, ${m.cores} cores, ${(m.totalMemoryBytes / GiB).toFixed(1)} GiB, Node ${m.node}, onnxruntime-node ${m.onnxruntime}, load ${m.loadAverage1m.start}\n`);
  if (run.has('startup')) startup();
  if (run.has('metrics')) metrics();
  if (run.has('tiny')) await tiny();
  const familyRecord = run.has('families') ? await families() : undefined;
  const sdxlRecord = run.has('sdxl') ? sdxl() : undefined;
  const skip = run.has('sd15') ? sd15SkipReason() : 'not among LOCKSTEP_BENCH_ONLY';
  if (skip) process.stdout.write(`sd15: skipped — ${skip}\n`);
  else sd15();
  m.loadAverage1m.end = round(loadavg()[0]);
  mkdirSync(dirname(OUT), { recursive: true });
  const doc = { schema: 1, date: new Date().toISOString(), machine: m, sd15: skip ? { skipped: skip } : sd15Run(), ...(familyRecord && { families: familyRecord }), ...(sdxlRecord && { sdxlFull: sdxlRecord }), parts: [...run], figures };
  writeFileSync(OUT, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`wrote ${OUT}\n`);
}

rmSync(OUT, { force: true });
await main();
