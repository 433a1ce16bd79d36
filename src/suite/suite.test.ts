/** Suite files: errors name the file and the key (exit 2), gates map onto thresholds, shards split cases. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadedModels } from '../pipeline/loaded-models.ts';
import { loadSuite } from './load.ts';
import { runSuite } from './run.ts';
import { parseShard, selectCases } from './select.ts';
import { runCli } from '../testing/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-suite-'));
const BASE = `name: s
reference: { model: "builtin:tiny" }
candidate: { model: "builtin:tiny" }
cases:
  - { name: a, steps: 3, height: 64, width: 64 }
  - { name: b, seed: 2 }
  - { name: c }
`;

function suiteFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}


afterEach(() => vi.restoreAllMocks());

describe('suite errors name the file and the key, exit 2', () => {
  it('a malformed gate names gates[i]', async () => {
    const f = suiteFile('gate.yaml', `${BASE}gates:\n  - cosine >= 0.99\n  - teacherForced.noisePred.cosine <= 0.999\n`);
    const r = await runCli(['run', f, '--reports', join(dir, 'r')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: gates[1]`);
    expect(r.stderr).toContain('cosine gates take ">="');
  });

  it('an unparsable gate and an unknown gate key are named', () => {
    expect(() => loadSuite(suiteFile('g2.yaml', `${BASE}gates: ["cosine 0.9"]\n`))).toThrow(/g2\.yaml: gates\[0\]: "cosine 0\.9" is not a gate/);
    expect(() => loadSuite(suiteFile('g3.yaml', `${BASE}gates: ["teacherForced.bogus.cosine >= 1"]\n`))).toThrow(/gates\[0\]: unknown gate key "teacherForced\.bogus\.cosine"/);
  });

  it('an unknown key is named with its path', async () => {
    const f = suiteFile('unknown.yaml', BASE.replace('{ name: b, seed: 2 }', '{ name: b, sed: 2 }'));
    const r = await runCli(['run', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: unknown key "cases[1].sed"`);
  });

  it('a bad value names file and key path', () => {
    const f = suiteFile('steps.yaml', BASE.replace('steps: 3', 'steps: -1'));
    expect(() => loadSuite(f)).toThrow(`${f}: cases[0].steps: expected a positive integer`);
    const g = suiteFile('hw.yaml', BASE.replace('height: 64', 'height: 60'));
    expect(() => loadSuite(g)).toThrow(`${g}: cases[0].height: expected a positive multiple of 8`);
  });

  it('a missing model names the side and key', async () => {
    const f = suiteFile('missing.yaml', BASE.replace('candidate: { model: "builtin:tiny" }', 'candidate: { model: "no-such-model" }'));
    const r = await runCli(['run', f, '--reports', join(dir, 'r')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: candidate.model: no such model folder: ${join(dir, 'no-such-model')}`);
  });

  it('a build needs exactly one of model or trace', () => {
    const f = suiteFile('both.yaml', BASE.replace('reference: { model: "builtin:tiny" }', 'reference: { model: "builtin:tiny", trace: "t" }'));
    expect(() => loadSuite(f)).toThrow(`${f}: reference: expected exactly one of "model" or "trace"`);
  });
});

describe('suite contents', () => {
  it('gates override the default thresholds; defaults fill the cases', () => {
    const s = loadSuite(suiteFile('ok.yaml', `${BASE}defaults: { prompt: hi, steps: 4 }\ngates: ["cosine >= 0.5", "final.image.psnr >= 30", "teacherForced.noisePred.relL2 off"]\n`));
    expect(s.thresholds.teacherForced.noisePred.cosine).toBe(0.5);
    expect(s.thresholds.freeRunning.latents.cosine).toBe(0.5);
    expect(s.thresholds.final.image.psnr).toBe(30);
    expect(s.thresholds.teacherForced.noisePred.relL2).toBeNull();
    expect(s.cases.map((c) => [c.settings.steps, c.settings.prompt, c.settings.seed])).toEqual([[3, 'hi', 0], [4, 'hi', 2], [4, 'hi', 0]]);
  });

  it('shards deal cases round-robin and reject bad specs', () => {
    const s = loadSuite(suiteFile('sh.yaml', BASE));
    expect(selectCases(s, [], parseShard('1/2')).map((c) => c.name)).toEqual(['a', 'c']);
    expect(selectCases(s, [], parseShard('2/2')).map((c) => c.name)).toEqual(['b']);
    expect(() => parseShard('3/2')).toThrow(/--shard 3\/2/);
    expect(() => selectCases(s, ['zz'])).toThrow(/--case zz: .* has no such case/);
  });
});

describe('suite builds', () => {
  it('cases reuse the loaded builds: only the first case opens sessions, and all are released after', async () => {
    const f = suiteFile(
      'reuse.yaml',
      `name: reuse
reference: { model: "builtin:tiny", memPattern: true }
candidate: { model: "builtin:tiny?seed=1", prepacking: false }
defaults: { steps: 1, height: 64, width: 64 }
cases:
  - { name: a, seed: 1 }
  - { name: b, seed: 2 }
  - { name: c, seed: 3 }
`,
    );
    const suite = loadSuite(f);
    const results = await runSuite(suite, { cases: suite.cases, reportsDir: join(dir, 'reuse'), golden: false, goldenDir: join(dir, 'g') });
    expect(results.map((r) => r.error)).toEqual([null, null, null]);
    const sessionSeconds = results.map((r) => r.report!.timing.ortSessionSeconds);
    expect(sessionSeconds[0]).toBeGreaterThan(0);
    expect(sessionSeconds.slice(1)).toEqual([0, 0]);
    expect(results[2].report!.timing.ortSeconds).toBeGreaterThan(0);
    expect(results[0].report!.builds.reference.backend).toMatchObject({ memPattern: true, prepacking: true });
    expect(results[0].report!.builds.candidate.backend).toMatchObject({ memPattern: false, prepacking: false });
    expect(loadedModels.size).toBe(0);
  });
});

describe('suite --html', () => {
  const suiteOf = (name: string, candidate: string) =>
    suiteFile(`${name}.yaml`, `name: ${name}\nreference: { model: "builtin:tiny" }\ncandidate: { model: "${candidate}" }\ndefaults: { steps: 1, height: 64, width: 64, prompt: a cube }\ncases:\n  - { name: a, seed: 1 }\n`);
  const exists = (...p: string[]) => existsSync(join(...p));

  it('failing: a passing case keeps report.json/md only (an earlier report.html is removed), a failing one gets report.html; index.html and the summary link each page', async () => {
    const reports = join(dir, 'html-policy');
    const pass = suiteOf('selfcheck', 'builtin:tiny');
    expect((await runCli(['run', pass, '--reports', reports, '--quiet'])).code).toBe(0);
    expect(exists(reports, 'selfcheck', 'a', 'report.html')).toBe(true);

    const summary = join(dir, 'summary.md');
    const again = await runCli(['run', pass, '--reports', reports, '--html', 'failing', '--summary', summary]);
    expect(again.code).toBe(0);
    expect(exists(reports, 'selfcheck', 'a', 'report.html')).toBe(false);
    expect(exists(reports, 'selfcheck', 'a', 'report.md')).toBe(true);
    expect(readFileSync(join(reports, 'selfcheck', 'index.html'), 'utf8')).toContain('href="a/report.md"');
    expect(readFileSync(summary, 'utf8')).toContain('a/report.md');
    expect(again.stderr).toContain(join('a', 'report.md'));

    const fail = suiteOf('seeds', 'builtin:tiny?seed=1');
    expect((await runCli(['run', fail, '--reports', reports, '--html', 'failing', '--quiet'])).code).toBe(1);
    expect(exists(reports, 'seeds', 'a', 'report.html')).toBe(true);
    expect(readFileSync(join(reports, 'seeds', 'index.html'), 'utf8')).toContain('href="a/report.html"');

    expect((await runCli(['run', fail, '--reports', reports, '--html', 'none', '--quiet'])).code).toBe(1);
    expect(exists(reports, 'seeds', 'a', 'report.html')).toBe(false);
  });

  it('an unknown --html value is refused naming the flag and the choices, exit 2', async () => {
    const r = await runCli(['run', suiteOf('bad-html', 'builtin:tiny'), '--html', 'some']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--html.*some.*all, failing, none/s);
  });
});

describe('cases that cannot run', () => {
  it('several are reported on one line, each named with its reason, exit 2', async () => {
    const f = suiteFile('cnr.yaml', `name: cnr\nreference: { model: "builtin:tiny" }\ncandidate: { model: "builtin:tiny" }\ndefaults: { steps: 1, height: 64, width: 64, prompt: a cube, seed: 1 }\ncases:\n  - { name: a, image: nope-a.png }\n  - { name: b, image: nope-b.png }\n`);
    const r = await runCli(['run', f, '--reports', join(dir, 'cnr'), '--quiet']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/2 cases could not run: a: .*nope-a\.png.*; b: .*nope-b\.png/);
    expect(lines[0]).not.toContain('\\x0a');
  });
});
