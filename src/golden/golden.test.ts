/**
 * Goldens end to end through the CLI: record then check passes; a faulty
 * candidate fails on a named gate in JUnit and Markdown; a re-record is
 * refused; a changed model byte makes the golden stale; a killed update
 * leaves the old golden byte-identical. The faulty candidate is the tiny model
 * with one U-Net weight initializer scaled (the variant forge's API was not
 * available when this was written).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseJUnit, type TestSuites } from 'junit2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { loadModel, saveModel } from '../forge/onnx-io.ts';
import { runCli } from '../testing/cli.ts';
import { REPO_ROOT } from '../testing/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-golden-'));
const goldenDir = join(dir, 'golden');

const cli = (...args: string[]) => runCli(args);

function suite(name: string, candidate: string, reference = 'model'): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}
reference: { model: ${reference}, golden: true }
candidate: { model: ${candidate} }
defaults: { prompt: a photo of an astronaut, steps: 3, height: 64, width: 64 }
cases:
  - { name: a, seed: 1 }
gates: ["teacherForced.noisePred.cosine >= 0.9999"]
`);
  return file;
}

/** Scales the U-Net's largest float initializer: a real, localised weight fault. */
function perturbUnet(modelDir: string): void {
  const file = join(modelDir, 'unet/model.onnx');
  const model = loadModel(file);
  const inits = model.graph!.initializer!.filter((t) => t.dataType === 1 && t.rawData && t.rawData.length > 64);
  const t = inits.sort((a, b) => b.rawData!.length - a.rawData!.length)[0];
  const bytes = Uint8Array.from(t.rawData!);
  const w = new Float32Array(bytes.buffer);
  for (let i = 0; i < w.length; i += 3) w[i] *= 1.5;
  t.rawData = bytes;
  saveModel(model, file);
}

function hashFolder(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = join(rel, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = createHash('sha256').update(readFileSync(join(root, p))).digest('hex');
    }
  };
  walk('');
  return out;
}

beforeAll(async () => {
  const tiny = await ensureTinyModel(0);
  cpSync(tiny, join(dir, 'model'), { recursive: true });
  cpSync(tiny, join(dir, 'faulty'), { recursive: true });
  cpSync(tiny, join(dir, 'stale-model'), { recursive: true });
  perturbUnet(join(dir, 'faulty'));
});

describe('golden record / check', () => {
  const ok = () => suite('g', 'model');

  it('records, then the same build passes the check; a second record is refused', async () => {
    expect((await cli('golden', 'record', ok(), '--golden-dir', goldenDir, '--quiet')).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(goldenDir, 'g/a/manifest.json'), 'utf8'));
    expect(manifest.golden.provenance.model.files['unet/model.onnx']).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.files['latents/initial.npy']).toBeUndefined();
    expect(manifest.files['steps/002/noise_pred.npy'].dtype).toBe('float32');
    const junit = join(dir, 'ok.xml');
    expect((await cli('golden', 'check', ok(), '--golden-dir', goldenDir, '--reports', join(dir, 'reports'), '--junit', junit)).code).toBe(0);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    expect(xml.testsuites['@_failures']).toBe('0');
    expect(Number(xml.testsuites['@_tests'])).toBeGreaterThan(10);
    expect(existsSync(join(dir, 'reports/g/index.html'))).toBe(true);
    const again = await cli('golden', 'record', ok(), '--golden-dir', goldenDir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('lockstep golden update');
  });

  it('a faulty candidate fails on the named gate in JUnit and Markdown', async () => {
    const bad = suite('g', 'faulty');
    const junit = join(dir, 'bad.xml');
    const summary = join(dir, 'bad.md');
    const r = await cli('golden', 'check', bad, '--golden-dir', goldenDir, '--reports', join(dir, 'reports'), '--junit', junit, '--summary', summary);
    expect(r.code).toBe(1);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    const cases = [xml.testsuites.testsuite.testcase].flat() as Array<Record<string, any>>;
    const gate = cases.find((c) => c['@_name'] === 'teacherForced.noisePred.cosine')!;
    expect(gate.failure['@_message']).toMatch(/^step 0 teacherForced\.noisePred cosine 0\.\d+ < 0\.9999$/);
    expect(cases.find((c) => c['@_name'] === 'teacherForced.noisePred.nonFinite')!.failure).toBeUndefined();
    // A JUnit-specific parser (as CI systems use) reads the same file with the same counts.
    const junitDoc = (await parseJUnit(readFileSync(junit, 'utf8'))) as TestSuites;
    const suites = junitDoc.testsuite ?? [];
    const parsedCases = suites.flatMap((t) => t.testcase ?? []);
    expect(parsedCases.length).toBe(cases.length);
    expect(junitDoc.failures).toBe(parsedCases.filter((c) => c.failure?.length).length);
    expect(parsedCases.find((c) => c.name === 'teacherForced.noisePred.cosine')?.failure?.[0].message).toMatch(/^step 0 teacherForced\.noisePred cosine/);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('❌ fail');
    expect(md).toMatch(/`step 0 teacherForced\.noisePred cosine 0\.\d+ < 0\.9999`/);
  });

  it('a golden whose model file changed is stale: exit 2 naming the golden and the file', async () => {
    const s = suite('st', 'stale-model', 'stale-model');
    expect((await cli('golden', 'record', s, '--golden-dir', goldenDir, '--quiet')).code).toBe(0);
    const unet = join(dir, 'stale-model/unet/model.onnx');
    const bytes = readFileSync(unet);
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(unet, bytes);
    const r = await cli('golden', 'check', s, '--golden-dir', goldenDir, '--reports', join(dir, 'reports'), '--junit', join(dir, 'st.xml'));
    expect(r.code).toBe(2);
    // The golden is named by a path relative to the working folder when inside it, else absolute: either resolves to it.
    const [, shown, file] = /^lockstep: error: (.+): stale golden: model file (.+) changed since/m.exec(r.stderr) ?? [];
    expect(resolve(shown ?? ''), r.stderr).toBe(join(goldenDir, 'st/a'));
    expect(file).toBe(unet);
    expect(readFileSync(join(dir, 'st.xml'), 'utf8')).toContain('type="stale-golden"');
  });

  it('a golden update killed mid-write leaves the old golden byte-identical', async () => {
    const s = ok();
    const before = hashFolder(join(goldenDir, 'g/a'));
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/lockstep.mjs'), 'golden', 'update', s, '--case', 'a', '--golden-dir', goldenDir, '--quiet'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const suiteDir = join(goldenDir, 'g');
    let sawTemp = false;
    for (let i = 0; i < 2000 && child.exitCode === null; i++) {
      if (readdirSync(suiteDir).some((n) => n.startsWith('.a.tmp-'))) {
        sawTemp = true;
        child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await exited;
    expect(sawTemp).toBe(true);
    expect(hashFolder(join(goldenDir, 'g/a'))).toEqual(before);
    // The next update sweeps the dead temporary folder and replaces the golden.
    expect((await cli('golden', 'update', s, '--case', 'a', '--golden-dir', goldenDir, '--quiet')).code).toBe(0);
    expect(readdirSync(suiteDir)).toEqual(['a']);
    expect(hashFolder(join(goldenDir, 'g/a'))['manifest.json']).not.toBe(before['manifest.json']);
  });
});
