/**
 * Issue #12's cases through the CLI: a broken reference never passes, and
 * nothing outside the named folders is read, written or deleted. Each case
 * checks the exit code, a one-line message naming the culprit (exit 2), no
 * stack trace, and that the outputs the run was pointed at are left as they were.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../src/forge/cache.ts';
import { declareSampleBatch, hashTree, mutantModel } from '../../src/testing/fixtures/bad-inputs.ts';
import { gappedTrace, interruptedTrace, nanReference } from '../../src/testing/fixtures/broken-references.ts';
import { duplicateDescrNpy, escapingExternalData, linkTo, makeFifo, misalignedFloat32Npy, redirectExchangeOutput } from '../../src/testing/fixtures/escapes.ts';
import { readExchangeManifest } from '../../src/exchange/format.ts';
import { readNpy } from '../../src/tensor/npy.ts';
import { concat0, type Tensor } from '../../src/tensor/tensor.ts';
import { writeNpy } from '../../src/tensor/npy.ts';
import { float32, int64 } from '../../src/tensor/tensor.ts';
import { type CliResult, runCli } from '../../src/testing/cli.ts';

const PIPELINE = ['--prompt', 'a red cube', '--seed', '3', '--steps', '2', '--scheduler', 'ddim', '--height', '64', '--width', '64', '--quiet'];

let root: string;
let model: string;
/** A passing run's outputs; every case must leave them as they are. */
const existing = { dir: '', report: '', image: '', trace: '' };
/** Fixture paths by name. */
const fx: Record<string, string> = {};

const generate = (m: string, ...extra: string[]) => ['generate', '--model', m, '--out', existing.image, '--trace', existing.trace, ...PIPELINE, ...extra];
const compare = (ref: string, cand: string, ...extra: string[]) => ['compare', '--reference', ref, '--candidate', cand, '--report', existing.report, ...PIPELINE, ...extra];
/** With a trace as reference, the settings come from its manifest. */
const compareTrace = (trace: string, report = existing.report, ...extra: string[]) => ['compare', '--reference', trace, '--candidate', model, '--report', report, '--quiet', ...extra];
const fresh = (name: string) => join(root, 'fresh', name);
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));

/** Copies of the recorded trace, each broken in one way. */
function buildFixtures(): void {
  const copy = (name: string) => {
    fx[name] = join(root, 'traces', name);
    cpSync(existing.trace, fx[name], { recursive: true });
    return fx[name];
  };
  nanReference(copy('nanRef'));
  interruptedTrace(copy('interrupted'), 1);
  gappedTrace(copy('gapped'), 0);
  const npy = join(root, 'npy');
  mkdirSync(npy, { recursive: true });
  fx.int53 = join(npy, 'int53.npy');
  fx.int53plus1 = join(npy, 'int53plus1.npy');
  writeNpy(fx.int53, int64([2], [2n ** 53n, 7n]));
  writeNpy(fx.int53plus1, int64([2], [2n ** 53n + 1n, 7n]));
  fx.misaligned = join(npy, 'misaligned.npy');
  fx.aligned = join(npy, 'aligned.npy');
  fx.dupDescr = join(npy, 'dup-descr.npy');
  writeFileSync(fx.misaligned, misalignedFloat32Npy([1.5, -2.25, 3]));
  writeFileSync(fx.dupDescr, duplicateDescrNpy([1.5, -2.25, 3]));
  writeNpy(fx.aligned, float32([3], [1.5, -2.25, 3]));
  fx.longTokenizer = mutantModel(model, join(root, 'models', 'long-tokenizer'), 'tokenizer');
  const tokConfig = join(fx.longTokenizer, 'tokenizer', 'tokenizer_config.json');
  writeFileSync(tokConfig, JSON.stringify({ ...JSON.parse(readFileSync(tokConfig, 'utf8')), model_max_length: 128 }));
  fx.batch1 = mutantModel(model, join(root, 'models', 'batch1'), 'unet');
  declareSampleBatch(fx.batch1, 1);
  fx.jsSuite = join(root, 'suites', 'js.yaml');
  mkdirSync(join(root, 'suites'), { recursive: true });
  writeFileSync(fx.jsSuite, `name: js\nreference: { model: ${model} }\ncandidate: { model: ${model} }\ncases:\n  - { name: a, seed: !!js/function "function () { return 1 }", prompt: x, steps: 1, height: 64, width: 64 }\n`);
  fx.escapePath = join(root, 'no-\x1b[31mred\x1b]0;title\x07-model');
  fx.plusInf = join(npy, 'plus-inf.npy');
  fx.minusInf = join(npy, 'minus-inf.npy');
  writeNpy(fx.plusInf, float32([3], [1, Infinity, 2]));
  writeNpy(fx.minusInf, float32([3], [1, -Infinity, 2]));
}

/** Files outside every folder a run is given; a case must neither read nor change them. */
const outside = { dir: '', secretBin: '', secretNpy: '' };

/** A model whose U-Net external data is named `../../../secret/unet.bin`, and a user folder holding a model. */
function buildEscapes(): void {
  outside.dir = join(root, 'secret');
  fx.escapeModel = join(root, 'models', 'escape');
  cpSync(model, fx.escapeModel, { recursive: true });
  outside.secretBin = escapingExternalData(fx.escapeModel, 'unet', '../../../secret/unet.bin');
  fx.userDir = join(root, 'user');
  mkdirSync(fx.userDir, { recursive: true });
  writeFileSync(join(fx.userDir, 'notes.txt'), 'the user\'s own file\n');
  fx.userModel = join(fx.userDir, 'model');
  cpSync(model, fx.userModel, { recursive: true });
  // A trace with a FIFO, and one with a link that leaves it.
  fx.fifoTrace = join(root, 'traces', 'fifo');
  cpSync(existing.trace, fx.fifoTrace, { recursive: true });
  makeFifo(join(fx.fifoTrace, 'steps', '001', 'extra.npy'));
  fx.linkTrace = join(root, 'traces', 'link');
  cpSync(existing.trace, fx.linkTrace, { recursive: true });
  outside.secretNpy = join(outside.dir, 'noise_pred.npy');
  cpSync(join(existing.trace, 'steps', '001', 'noise_pred.npy'), outside.secretNpy);
  linkTo(join(fx.linkTrace, 'steps', '001', 'noise_pred.npy'), outside.secretNpy);
}

/** export-inputs of the recorded trace, answered with its own predictions; one copy names a file outside, one has a changed input. */
async function buildExchange(): Promise<void> {
  const inputs = join(root, 'exchange', 'inputs');
  expect((await runCli(['export-inputs', '--trace', existing.trace, '--out', inputs])).code).toBe(0);
  const outputs = join(root, 'exchange', 'outputs');
  for (const call of readExchangeManifest(join(inputs, 'manifest.json')).calls) {
    const step = join(existing.trace, 'steps', String(call.step).padStart(3, '0'));
    const parts = ['noise_pred_uncond', 'noise_pred_text'].map((n) => readNpy(join(step, `${n}.npy`)) as Tensor<'float32'>);
    writeNpy(join(outputs, call.outputs.out_sample.file), concat0(parts));
  }
  fx.exchangeOutputs = outputs;
  fx.escapeInputs = join(root, 'exchange', 'inputs-escape');
  cpSync(inputs, fx.escapeInputs, { recursive: true });
  cpSync(join(outputs, 'steps', '000', 'out_sample.npy'), join(outside.dir, 'SECRET.npy'));
  redirectExchangeOutput(fx.escapeInputs, 0, 'out_sample', '../../secret/SECRET.npy');
  fx.changedInputs = join(root, 'exchange', 'inputs-changed');
  cpSync(inputs, fx.changedInputs, { recursive: true });
  writeNpy(join(fx.changedInputs, 'steps', '000', 'timestep.npy'), float32([3], [1, 2, 3]));
}

/** A pid that is alive for the whole test run (a sleeping child), and one that is certainly dead. */
const pids = { alive: 0, dead: 0 };

/** One row of `lockstep diff`'s table, cells by column header. */
function diffRow(stdout: string, tensor: string): Record<string, string> {
  const lines = stdout.split('\n');
  const header = lines[0].trim().split(/\s{2,}/);
  const line = lines.slice(2).find((l) => l.startsWith(`${tensor} `));
  expect(line, stdout).toBeDefined();
  const cells = line!.trim().split(/\s{2,}/);
  return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lockstep-trust-'));
  model = await ensureTinyModel(0);
  existing.dir = join(root, 'existing');
  Object.assign(existing, { report: join(existing.dir, 'report'), image: join(existing.dir, 'image.png'), trace: join(existing.dir, 'trace') });
  expect((await runCli(generate(model))).code).toBe(0);
  expect((await runCli(compare(model, existing.trace))).code).toBe(0);
  buildFixtures();
  buildEscapes();
  await buildExchange();
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  pids.alive = sleeper.pid!;
  pids.dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout as unknown as number;
  fx.lockedReport = join(root, 'reports', 'locked');
  cpSync(existing.report, fx.lockedReport, { recursive: true });
  writeFileSync(join(fx.lockedReport, '.lockstep.lock'), `${pids.alive}\n`);
  fx.staleReport = join(root, 'reports', 'stale');
  cpSync(existing.report, fx.staleReport, { recursive: true });
  writeFileSync(join(fx.staleReport, '.lockstep.lock'), `${pids.dead}\n`);
});

afterAll(() => {
  if (pids.alive) process.kill(pids.alive);
  rmSync(root, { recursive: true, force: true });
});

interface Case {
  name: string;
  argv: () => string[];
  code: 0 | 1 | 2;
  /** What stderr must say (for exit 2: its single line, which names the culprit). */
  stderr: () => RegExp;
  /** Extra checks on the result. */
  then?: (r: CliResult) => void;
}

const CASES: Case[] = [
  // 1. An all-NaN reference is never a pass: the reference.nonFinite gate fails and nothing reads cosine 1.
  {
    name: '1: all-NaN reference predictions and decoded image', argv: () => compareTrace(fx.nanRef, fresh('nan-ref')), code: 1, stderr: () => /^$/,
    then: (r) => {
      expect(r.stdout).toMatch(/verdict: FAIL/);
      const doc = readReport(fresh('nan-ref'));
      expect(doc.complete).toBe(true);
      const health = doc.gates.find((g: { id: string }) => g.id === 'reference.nonFinite');
      expect(health).toMatchObject({ passed: false, threshold: 0 });
      expect(health.actual).toBeGreaterThan(0);
      expect(doc.steps[0].teacherForced.noisePred.cosine).not.toBe(1);
      expect(doc.final.decoded.cosine).not.toBe(1);
      expect(doc.findings.find((f: { kind: string; message: string }) => f.kind === 'first-nonfinite' && /reference/.test(f.message)).severity).toBe('error');
    },
  },
  {
    name: '1: diff against an all-NaN reference shows its NaN count, not cosine 1',
    argv: () => ['diff', join(fx.nanRef, 'steps', '000', 'noise_pred.npy'), join(existing.trace, 'steps', '000', 'noise_pred.npy')], code: 0, stderr: () => /^$/,
    then: (r) => {
      const row = diffRow(r.stdout, 'tensor');
      expect(Number(row.cosine)).toBe(0);
      expect(row['NaN/Inf (ref)']).toBe(`${4 * 8 * 8}/0`);
      expect(row['NaN/Inf (cand)']).toBe('0/0');
      expect(Number(row['non-finite mismatches'])).toBe(4 * 8 * 8);
    },
  },
  // 2. An interrupted or gapped reference is refused, unless a partial comparison is asked for explicitly.
  { name: '2: interrupted reference trace (complete: false, later steps and final/ missing)', argv: () => compareTrace(fx.interrupted), code: 2, stderr: () => new RegExp(`${esc(fx.interrupted)}: the reference trace is incomplete \\(manifest\\.json says "complete": false \\(interrupted\\); step folders for 1 of 2 steps\\).*--allow-partial-reference`) },
  { name: '2: step-folder gap with complete: false', argv: () => compareTrace(fx.gapped), code: 2, stderr: () => new RegExp(`${esc(fx.gapped)}: the reference trace is incomplete .*steps/000 is missing but steps/001 exists`) },
  {
    name: '2: --allow-partial-reference compares what it holds, reports complete: false and never passes', argv: () => compareTrace(fx.interrupted, fresh('partial'), '--allow-partial-reference'), code: 1, stderr: () => /^$/,
    then: (r) => {
      expect(r.stdout).toMatch(/verdict: FAIL \(partial comparison: the reference trace is incomplete .*a partial comparison never passes\)/);
      const doc = readReport(fresh('partial'));
      expect(doc).toMatchObject({ complete: false, verdict: 'fail' });
      expect(doc.partial).toMatch(/complete": false/);
      expect(doc.steps).toHaveLength(1);
      expect(doc.steps[0].teacherForced.noisePred).not.toBeNull();
    },
  },
  // 3. Timesteps outside the training range are refused before anything runs (no trace, no image, no report).
  {
    name: '3: --steps 1000 with DDIM (steps_offset 1) starts at timestep 1000', argv: () => generate(model, '--steps', '1000'), code: 2,
    stderr: () => /--steps 1000 with the ddim scheduler \(timestep_spacing leading, steps_offset 1\): timestep 1000 is outside the training range 0–999 .*use --steps 999 or fewer/,
  },
  {
    name: '3: the same through compare', argv: () => compare(model, model, '--steps', '1000'), code: 2,
    stderr: () => /--steps 1000 with the ddim scheduler .*timestep 1000 is outside the training range 0–999/,
  },
  // 4. compare needs the prompt and seed, like generate (unless a trace records them).
  { name: '4: compare of two models without --prompt', argv: () => ['compare', '--reference', model, '--candidate', model, '--report', existing.report, '--seed', '1', '--steps', '1', '--quiet'], code: 2, stderr: () => /--prompt is required \(as for generate\)/ },
  { name: '4: compare of two models without --seed', argv: () => ['compare', '--reference', model, '--candidate', model, '--report', existing.report, '--prompt', 'x', '--steps', '1', '--quiet'], code: 2, stderr: () => /--seed is required \(as for generate\)/ },
  // 5. Integers compare exactly; +Inf against -Inf is a mismatch.
  {
    name: '5: diff of int64 2^53 and 2^53+1', argv: () => ['diff', fx.int53, fx.int53plus1], code: 0, stderr: () => /^$/,
    then: (r) => expect(Number(diffRow(r.stdout, 'tensor').maxAbs)).toBe(1),
  },
  {
    name: '5: diff of +Inf and -Inf at the same place', argv: () => ['diff', fx.plusInf, fx.minusInf], code: 0, stderr: () => /^$/,
    then: (r) => {
      const row = diffRow(r.stdout, 'tensor');
      expect(row['NaN/Inf (ref)']).toBe('0/1');
      expect(row['NaN/Inf (cand)']).toBe('0/1');
      expect(Number(row['non-finite mismatches'])).toBe(1);
    },
  },
  // 6. External data is read and written only inside the component's folder.
  {
    name: '6: forge variant of a model whose external data is named ../../../secret/unet.bin',
    argv: () => ['forge', 'variant', '--from', fx.escapeModel, '--kind', 'fp16', '--out', fresh('escape-variant')], code: 2,
    stderr: () => /path '\.\.\/\.\.\/\.\.\/secret\/unet\.bin' leaves .*unet/,
    then: () => expect(existsSync(fresh('escape-variant'))).toBe(false),
  },
  // 7. An exchange manifest cannot make import-outputs read elsewhere, and re-read inputs must match it.
  {
    name: '7: import-outputs with an output named ../../secret/SECRET.npy',
    argv: () => ['import-outputs', '--inputs', fx.escapeInputs, '--outputs', fx.exchangeOutputs, '--out', fresh('escape-import')], code: 2,
    stderr: () => /path '\.\.\/\.\.\/secret\/SECRET\.npy' leaves .*outputs/,
    then: () => expect(existsSync(fresh('escape-import'))).toBe(false),
  },
  {
    name: '7: import-outputs re-reads an input that no longer matches the manifest',
    argv: () => ['import-outputs', '--inputs', fx.changedInputs, '--outputs', fx.exchangeOutputs, '--out', fresh('changed-import')], code: 2,
    stderr: () => new RegExp(`${esc(join(fx.changedInputs, 'steps', '000', 'timestep.npy'))}: holds float32\\[3\\]; the manifest says`),
  },
  // 8. Output folders are replaced only when they are lockstep's own.
  {
    name: '8: forge variant --out the folder that contains --from',
    argv: () => ['forge', 'variant', '--from', fx.userModel, '--kind', 'fp16', '--out', fx.userDir], code: 2,
    stderr: () => /--out .*user: contains --from .*replacing it would delete the source model/,
  },
  {
    name: '8: forge variant --out an existing folder that is not a variant',
    argv: () => ['forge', 'variant', '--from', model, '--kind', 'fp16', '--out', fx.userDir], code: 2,
    stderr: () => /--out .*user: the folder exists and is not lockstep's \(no variant\.json\)/,
  },
  {
    name: '8: generate --trace into a folder that is not a trace',
    argv: () => ['generate', '--model', model, '--out', fresh('user-trace.png'), '--trace', fx.userDir, ...PIPELINE], code: 2,
    stderr: () => /--trace .*user: the folder exists and is not lockstep's \(no manifest\.json\)/,
  },
  // 9. A report folder another live run holds is refused; a stale lock is taken over.
  {
    name: '9: compare into a report folder locked by a live run', argv: () => compare(model, model, '--steps', '1').map((a) => (a === existing.report ? fx.lockedReport : a)), code: 2,
    stderr: () => new RegExp(`--report ${esc(fx.lockedReport)}: another lockstep run \\(pid ${pids.alive}\\) is writing this folder`),
  },
  {
    name: '9: a stale lock (its pid is gone) is recovered', argv: () => compare(model, model, '--steps', '1').map((a) => (a === existing.report ? fx.staleReport : a)), code: 0, stderr: () => /^$/,
    then: () => expect(readdirSync(fx.staleReport)).not.toContain('.lockstep.lock'),
  },
  // 10. Devices, FIFOs and links out of a trace are refused instead of read.
  { name: '10: diff against /dev/zero', argv: () => ['diff', fx.aligned, '/dev/zero'], code: 2, stderr: () => /\/dev\/zero: a character device, not a regular file/ },
  { name: '10: a FIFO inside a trace', argv: () => compareTrace(fx.fifoTrace), code: 2, stderr: () => new RegExp(`${esc(join(fx.fifoTrace, 'steps', '001', 'extra.npy'))} \\(a FIFO\\): inside the trace`) },
  { name: '10: a symlink inside a trace that leaves it', argv: () => compareTrace(fx.linkTrace), code: 2, stderr: () => new RegExp(`${esc(join(fx.linkTrace, 'steps', '001', 'noise_pred.npy'))} \\(a symlink to .*secret.*, outside`) },
  // 11. A valid .npy whose data is not 4-byte aligned reads as numpy reads it.
  {
    name: '11: misaligned float32 .npy', argv: () => ['diff', fx.aligned, fx.misaligned], code: 0, stderr: () => /^$/,
    then: (r) => expect(Number(diffRow(r.stdout, 'tensor').maxAbs)).toBe(0),
  },
  // 14. A duplicated 'descr' reads as numpy reads it (the last one wins: verified with numpy 1.26 np.load).
  {
    name: "14: .npy header with 'descr' twice", argv: () => ['diff', fx.aligned, fx.dupDescr], code: 0, stderr: () => /^$/,
    then: (r) => expect(Number(diffRow(r.stdout, 'tensor').maxAbs)).toBe(0),
  },
  // 13. Mismatched exports get a complete message naming the file.
  {
    name: '13: tokenizer model_max_length 128 against a 77-position text encoder', argv: () => generate(fx.longTokenizer), code: 2,
    stderr: () => new RegExp(`${esc(join(fx.longTokenizer, 'tokenizer', 'tokenizer_config.json'))}: model_max_length 128 pads every prompt to 128 tokens, but the text encoder takes 77 positions`),
  },
  {
    name: '13: a U-Net with a static batch of 1, used with guidance', argv: () => generate(fx.batch1), code: 2,
    stderr: () => /unet\/model\.onnx: the U-Net input 'sample' has a static batch of 1, but classifier-free guidance \(--guidance 7\.5 > 1\) .*or run without guidance \(--guidance 1\)$/,
  },
  {
    name: '13: the same U-Net without guidance runs', argv: () => ['generate', '--model', fx.batch1, '--out', fresh('batch1.png'), ...PIPELINE, '--guidance', '1'], code: 0, stderr: () => /^$/,
    then: () => expect(existsSync(fresh('batch1.png'))).toBe(true),
  },
  // 14. Unknown YAML tags are errors; escape sequences in a path are shown escaped.
  { name: '14: a suite with a !!js/function tag', argv: () => ['run', fx.jsSuite, '--reports', fresh('js-reports')], code: 2, stderr: () => /js\.yaml: not valid YAML for a suite: Unresolved tag: tag:yaml\.org,2002:js\/function/ },
  {
    name: '14: terminal escape sequences in a path', argv: () => generate(fx.escapePath), code: 2, stderr: () => /no-\\x1b\[31mred\\x1b\]0;title\\x07-model: model folder not found/,
    then: (r) => expect(r.stderr).not.toMatch(/[\x1b\x07]/),
  },
  // 12. A request that cannot fit is refused before anything is loaded, naming the numbers.
  {
    name: '12: --height 65536 --width 65536 (generate)', argv: () => generate(model, '--height', '65536', '--width', '65536'), code: 2,
    stderr: () => /--height 65536 --width 65536: this run needs an estimated [\d.]+ PiB \(weights [\d.]+ MiB, .* activations .*\) but [\d.]+ [GMT]iB is available/,
  },
  {
    name: '12: --height 65536 --width 65536 (compare)', argv: () => compare(model, model, '--height', '65536', '--width', '65536'), code: 2,
    stderr: () => /--height 65536 --width 65536: this run needs an estimated [\d.]+ PiB/,
  },
];

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('trust: broken references and files outside the named folders', () => {
  it.each(CASES)('$name', async (c) => {
    const before = hashTree(existing.dir);
    const secrets = hashTree(outside.dir);
    const user = hashTree(fx.userDir);
    const r = await runCli(c.argv());
    expect(r.code, r.stderr).toBe(c.code);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    if (c.code === 2) expectOneLineError(r.stderr, c);
    else expect(r.stderr.trim()).toMatch(c.stderr());
    c.then?.(r);
    expect(hashTree(existing.dir), 'existing outputs were modified').toBe(before);
    expect(hashTree(outside.dir), 'files outside the named folders were modified').toBe(secrets);
    expect(hashTree(fx.userDir), "the user's folder was modified").toBe(user);
  });
});

function expectOneLineError(stderr: string, c: Case): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^lockstep: error: /);
  expect(lines[0]).toMatch(c.stderr());
}
