/**
 * Bad inputs, end to end through the CLI: each case checks the exit code, a
 * one-line message on stderr naming the culprit, no stack trace, and that an
 * existing report/trace/image it was pointed at is left untouched.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../src/forge/cache.ts';
import {
  damageNpy, declareSampleChannels, dropExternalData, hashTree, mutantModel, type NpyDamage, renameInput, retypeUnetSample, setConfigKey,
} from '../../src/testing/fixtures/bad-inputs.ts';
import { type CliResult, runCli } from '../../src/testing/cli.ts';
import { nanAtTimestep } from '../../src/testing/model-surgery.ts';
import { REPO_ROOT } from '../../src/testing/paths.ts';

const PIPELINE = ['--prompt', 'a red cube', '--seed', '3', '--steps', '2', '--scheduler', 'ddim', '--height', '64', '--width', '64', '--quiet'];

let root: string;
let model: string;
/** A passing run's outputs; bad inputs aimed at them must leave them as they are. */
const existing = { dir: '', report: '', image: '', trace: '' };
/** Fixture paths by name (mutated models and traces). */
const fx: Record<string, string> = {};

const generate = (m: string, ...extra: string[]) => ['generate', '--model', m, '--out', existing.image, '--trace', existing.trace, ...PIPELINE, ...extra];
const compare = (ref: string, cand: string, ...extra: string[]) => ['compare', '--reference', ref, '--candidate', cand, '--report', existing.report, ...PIPELINE, ...extra];
/** With a trace as a build, the settings come from its manifest. */
const compareTrace = (trace: string) => ['compare', '--reference', trace, '--candidate', model, '--report', existing.report, '--quiet'];
const fresh = (name: string) => join(root, 'fresh', name);

async function buildFixtures(): Promise<void> {
  const mutant = (name: string, component: string) => (fx[name] = mutantModel(model, join(root, 'models', name), component));
  mutant('noVae', 'vae_decoder');
  rmSync(join(fx.noVae, 'vae_decoder', 'model.onnx'));
  writeFileSync(join(mutant('corrupt', 'unet'), 'unet', 'model.onnx'), Buffer.from('this is not a protobuf \x00\xff\xfe'.repeat(40), 'latin1'));
  copyFileSync(join(model, 'vae_decoder', 'model.onnx'), join(mutant('vaeAsUnet', 'unet'), 'unet', 'model.onnx'));
  renameInput(mutant('renamedIds', 'text_encoder'), 'text_encoder', 'input_ids', 'tokens');
  retypeUnetSample(mutant('int32Sample', 'unet'), 'int32');
  declareSampleChannels(mutant('unet8ch', 'unet'), 8);
  setConfigKey(mutant('config8ch', 'unet'), 'unet', 'in_channels', 8);
  fx.sideFile = dropExternalData(mutant('noSideFile', 'unet'), 'unet');
  const timesteps: number[] = JSON.parse(readFileSync(join(existing.trace, 'manifest.json'), 'utf8')).timesteps;
  nanAtTimestep(mutant('nan', 'unet'), timesteps[1]);
  buildTraceFixtures();
}

/** Copies of the recorded trace, each with one defect. */
function buildTraceFixtures(): void {
  const copy = (name: string) => {
    fx[name] = join(root, 'traces', name);
    cpSync(existing.trace, fx[name], { recursive: true });
    return fx[name];
  };
  for (const damage of ['truncated', 'bad-header', 'big-endian', 'fortran'] as NpyDamage[]) {
    damageNpy(join(copy(damage), 'steps', '001', 'noise_pred.npy'), damage);
  }
  rmSync(join(copy('noManifest'), 'manifest.json'));
  editManifest(copy('v2'), (m) => ({ ...m, format: 'lockstep.trace/2' }));
  rmSync(join(copy('missingStep'), 'steps', '001'), { recursive: true });
  editManifest(copy('wrongShape'), (m) => {
    m.files['latents/initial.npy'].shape = [1, 4, 16, 16];
    return m;
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function editManifest(dir: string, edit: (m: any) => unknown): void {
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')))));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lockstep-robust-'));
  model = await ensureTinyModel(0);
  existing.dir = join(root, 'existing');
  Object.assign(existing, { report: join(existing.dir, 'report'), image: join(existing.dir, 'image.png'), trace: join(existing.dir, 'trace') });
  expect((await runCli(generate(model))).code).toBe(0);
  expect((await runCli(compare(model, existing.trace))).code).toBe(0);
  await buildFixtures();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  name: string;
  argv: () => string[];
  code: 0 | 1 | 2;
  /** What stderr must say (for exit 2: its single line, which names the culprit). */
  stderr: () => RegExp;
  /** Extra checks on a run that is expected to work. */
  then?: (r: CliResult) => void;
  /** commander prints usage after its own parse errors: only the first line is the message. */
  usageFollows?: boolean;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const names = (path: () => string, rest = '') => () => new RegExp(esc(path()) + rest);

const CASES: Case[] = [
  // Model folders
  { name: 'missing model folder', argv: () => generate(join(root, 'no-such-model')), code: 2, stderr: names(() => join(root, 'no-such-model'), ': model folder not found') },
  { name: 'missing component', argv: () => generate(fx.noVae), code: 2, stderr: () => /missing vae_decoder\/model\.onnx/ },
  { name: 'corrupt ONNX', argv: () => compare(model, fx.corrupt), code: 2, stderr: names(() => join(fx.corrupt, 'unet', 'model.onnx'), ': not a loadable ONNX model for the unet') },
  { name: 'ONNX of another kind (VAE in unet/)', argv: () => compare(model, fx.vaeAsUnet), code: 2, stderr: names(() => join(fx.vaeAsUnet, 'unet', 'model.onnx'), ".*no input 'sample'.*latent_sample") },
  { name: 'wrong input names', argv: () => compare(fx.renamedIds, model), code: 2, stderr: names(() => join(fx.renamedIds, 'text_encoder', 'model.onnx'), ".*no input 'input_ids'.*tokens") },
  { name: 'wrong dtype (int32 sample)', argv: () => generate(fx.int32Sample), code: 2, stderr: names(() => join(fx.int32Sample, 'unet', 'model.onnx'), ".*'sample' is declared int32; expected a float") },
  { name: 'latent channels: model 8, config 4', argv: () => generate(fx.unet8ch), code: 2, stderr: () => /'sample' has 8 channels, but .*unet\/config\.json says in_channels 4/ },
  // Found only when the U-Net runs, after a --trace folder was started (a trace is written as the run goes), so no --trace here.
  {
    name: 'latent channels: config 8, model 4', argv: () => ['generate', '--model', fx.config8ch, '--out', existing.image, ...PIPELINE], code: 2,
    stderr: () => /unet\/model\.onnx: unet failed to run: .*channels.*unet\/config\.json in_channels 8/,
  },
  { name: 'missing external-data file', argv: () => compare(model, fx.noSideFile), code: 2, stderr: () => new RegExp(`external-data file .*missing.*${esc(fx.sideFile)}`) },
  // Traces and .npy files
  ...(['truncated', 'bad-header', 'big-endian', 'fortran'] as const).map((d): Case => ({
    name: `${d} .npy in a trace`, argv: () => compareTrace(fx[d]), code: 2, stderr: names(() => join(fx[d], 'steps', '001', 'noise_pred.npy'), ': not a valid \\.npy file'),
  })),
  ...(['truncated', 'bad-header', 'big-endian', 'fortran'] as const).map((d): Case => ({
    name: `${d} .npy to lockstep diff`,
    argv: () => ['diff', join(existing.trace, 'steps', '001', 'noise_pred.npy'), join(fx[d], 'steps', '001', 'noise_pred.npy')],
    code: 2,
    stderr: names(() => join(fx[d], 'steps', '001', 'noise_pred.npy'), `: not a valid \\.npy file: ${{ truncated: 'truncated', 'bad-header': 'malformed header', 'big-endian': 'big-endian', fortran: 'Fortran-order' }[d]}`),
  })),
  { name: 'trace without manifest', argv: () => compareTrace(fx.noManifest), code: 2, stderr: names(() => fx.noManifest, '.*manifest\\.json') },
  { name: 'manifest of a future major version', argv: () => compareTrace(fx.v2), code: 2, stderr: names(() => join(fx.v2, 'manifest.json'), '.*major version 2') },
  { name: 'trace with a missing step', argv: () => compareTrace(fx.missingStep), code: 2, stderr: names(() => fx.missingStep, '.*steps/001 is missing') },
  { name: 'shape disagreeing with the manifest', argv: () => compareTrace(fx.wrongShape), code: 2, stderr: names(() => join(fx.wrongShape, 'latents', 'initial.npy'), ': manifest\\.json declares float32\\[1,4,16,16\\]') },
  // Pipeline flags
  { name: 'unknown scheduler', argv: () => generate(model, '--scheduler', 'warp-drive'), code: 2, stderr: () => /unknown scheduler "warp-drive"; valid: ddim/ },
  { name: '--steps 0', argv: () => generate(model, '--steps', '0'), code: 2, stderr: () => /--steps must be an integer ≥ 1, got 0/ },
  { name: 'height not a multiple of 8', argv: () => generate(model, '--height', '60'), code: 2, stderr: () => /--height must be a positive multiple of 8.*got 60/ },
  { name: 'negative seed', argv: () => generate(model, '--seed', '-1'), code: 2, stderr: () => /--seed must be ≥ 0, got -1/ },
  { name: 'seed above 2^64', argv: () => generate(model, '--seed', '36893488147419103232'), code: 2, stderr: () => /--seed 36893488147419103232 is too large/ },
  { name: 'non-numeric --guidance', argv: () => compare(model, model, '--guidance', 'lots'), code: 2, stderr: () => /--guidance must be a number, got 'lots'/ },
  { name: 'noise generator not among the choices', argv: () => generate(model, '--noise', 'perlin'), code: 2, stderr: () => /--noise <generator>.*'perlin' is invalid/, usageFollows: true },
  {
    name: 'prompt longer than 77 tokens', argv: () => ['generate', '--model', model, '--out', fresh('long.png'), ...PIPELINE, '--prompt', 'cube '.repeat(90)], code: 0,
    stderr: () => /warning: --prompt is longer than CLIP's 77 tokens \(90 tokens\); it was truncated/, then: () => expect(existsSync(fresh('long.png'))).toBe(true),
  },
  { name: 'empty prompt', argv: () => ['generate', '--model', model, '--out', fresh('empty.png'), ...PIPELINE, '--prompt', ''], code: 0, stderr: () => /^$/, then: () => expect(existsSync(fresh('empty.png'))).toBe(true) },
  // Outputs, gates, backends
  { name: '--report under a regular file', argv: () => ['compare', '--reference', model, '--candidate', model, '--report', join(existing.image, 'sub'), ...PIPELINE], code: 2, stderr: names(() => join(existing.image, 'sub', 'report.json'), ': cannot write \\(ENOTDIR') },
  { name: 'unknown --threshold key', argv: () => compare(model, model, '--threshold', 'cosin=0.9'), code: 2, stderr: () => /--threshold: unknown threshold key "cosin"/ },
  { name: 'unknown --threshold key when re-judging a report', argv: () => ['report', existing.report, '--threshold', 'teacherForced.noisePred.cosinus=1'], code: 2, stderr: () => /unknown threshold key "teacherForced\.noisePred\.cosinus"/ },
  { name: 'missing --thresholds file', argv: () => compare(model, model, '--thresholds', join(root, 'nope.json')), code: 2, stderr: names(() => join(root, 'nope.json'), ': cannot read') },
  { name: 'provider not in this build', argv: () => compare(model, model, '--cand-provider', 'cuda'), code: 2, stderr: () => /execution provider 'cuda' is not available in this onnxruntime-node build/ },
  {
    name: 'NaN outputs are a finding, not a crash', argv: () => ['compare', '--reference', model, '--candidate', fx.nan, '--report', fresh('nan'), ...PIPELINE], code: 1, stderr: () => /^$/,
    then: (r) => {
      expect(r.stdout).toMatch(/verdict: FAIL/);
      const report = JSON.parse(readFileSync(join(fresh('nan'), 'report.json'), 'utf8'));
      expect(report.findings.find((f: { kind: string }) => f.kind === 'first-nonfinite')?.step).toBe(1);
    },
  },
];

describe('bad inputs through the CLI', () => {
  it('covers at least 25 distinct cases', () => expect(new Set(CASES.map((c) => c.name)).size).toBeGreaterThanOrEqual(25));

  it.each(CASES)('$name', async (c) => {
    const before = hashTree(existing.dir);
    const r = await runCli(c.argv());
    expect(r.code, r.stderr).toBe(c.code);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    if (c.code === 2) expectOneLineError(r.stderr, c);
    else expect(r.stderr.trim()).toMatch(c.stderr());
    c.then?.(r);
    expect(hashTree(existing.dir), 'existing outputs were modified').toBe(before);
  });

  it('disk full while writing a report: exit 2 naming report.json, the previous report intact', async () => {
    const before = hashTree(existing.dir);
    const r = await withEnospc(`${existing.report}/.report.json.tmp`, () => runCli(compare(model, model)));
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, { stderr: names(() => join(existing.report, 'report.json'), ': cannot write \\(ENOSPC') } as Case);
    expect(hashTree(existing.dir)).toBe(before);
  });

  it('SIGINT during a run: exit 130 and a partial report.json marked incomplete', async () => {
    const report = fresh('sigint');
    const argv = ['compare', '--reference', model, '--candidate', model, '--report', report, ...PIPELINE, '--steps', '50'];
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'lockstep.mjs'), ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await until(() => stepsWritten(report) >= 1 || child.exitCode !== null);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.complete).toBe(false);
    expect(doc.steps.length).toBeGreaterThanOrEqual(1);
    expect(doc.steps.length).toBeLessThan(50);
    expect(stderr).toMatch(/interrupted.*partial report in/);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});

/** Runs `fn` with fs.writeFileSync failing with ENOSPC for paths starting with `prefix`. */
async function withEnospc<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  const real = fs.writeFileSync;
  fs.writeFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (String(file).startsWith(prefix)) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${String(file)}'`), { code: 'ENOSPC' });
    }
    return (real as (...a: unknown[]) => void)(file, ...rest);
  }) as typeof fs.writeFileSync;
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    fs.writeFileSync = real;
    syncBuiltinESMExports();
  }
}

function stepsWritten(reportDir: string): number {
  const file = join(reportDir, 'report.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).steps.length : 0;
}

async function until(done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the child run');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function expectOneLineError(stderr: string, c: Case): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines.length).toBeGreaterThan(0);
  if (!c.usageFollows) {
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^lockstep: error: /);
  }
  expect(lines[0]).toMatch(c.stderr());
}
