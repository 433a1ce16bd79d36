/**
 * The package as a user gets it: `npm pack` (prepack builds dist/), the tarball
 * installed into an empty project, and there: (a) `npx lockstep` runs the
 * compiled CLI (--version, forge tiny, generate); (b) tsc type-checks README's
 * library example and a file of type assertions against the shipped .d.ts,
 * and the compiled example runs; (c) vitest runs README's "Use it from vitest"
 * file (describeSuite, toPassGates, toMatchReference) plus a check that a
 * failing report fails the matcher.
 *
 * Offline and quick: npm installs lockstep itself from the tarball (files,
 * bin link, exports as a user gets them); its dependencies, and vitest,
 * typescript and @types/node, are `file:` links to this checkout's
 * node_modules (the versions package-lock.json pins), so nothing is fetched
 * and no npm cache is needed. What this does not cover: npm resolving
 * lockstep's dependencies from a registry.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/testing/paths.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const root = mkdtempSync(join(tmpdir(), 'lockstep-package-'));
const project = join(root, 'project');
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };
let packedFiles: string[] = [];

function run(cmd: string, args: string[], cwd = project): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return r;
}

/** A command npm linked into the project's node_modules/.bin (what npx runs, without npm's own start-up each time). */
const bin = (name: string) => join(project, 'node_modules/.bin', name);

function ok(cmd: string, args: string[], cwd = project): string {
  const r = run(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The code blocks README.md and docs/api.md mark with `<!-- packed-example: NAME -->`, by NAME. */
function docExamples(): Record<string, string> {
  const found: Record<string, string> = {};
  for (const doc of ['README.md', 'docs/api.md']) {
    const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
    for (const m of text.matchAll(/<!-- packed-example: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)) found[m[1]!] = `${m[2]}\n`;
  }
  return found;
}

/** Runs docs/api.md's examples in order, in one process. */
const RUN_API_EXAMPLES = `import { readdirSync } from 'node:fs';
for (const f of readdirSync('build/api').filter((f) => f.endsWith('.js')).sort()) {
  console.log(\`== \${f}\`);
  await import(\`./build/api/\${f}\`);
}
`;

/**
 * Type assertions a consumer's tsc must accept, and must reject (an unused
 * @ts-expect-error fails the check, so these also prove the types are not `any`).
 * skipLibCheck as most projects set it: checking every library's .d.ts too takes
 * 4× longer (the shipped .d.ts pass it; onnx-proto's own need a global `Long`,
 * which is why the public types do not reach them).
 */
const TYPES_TS = `import { createGenerator, createScheduler, readReport, SCHEDULER_NAMES, type MetricSet, type ReportDocument, type Tensor } from 'lockstep';
import { describeSuite, toPassGates, type DescribeSuiteOptions } from 'lockstep/vitest';
import { expect } from 'vitest';

const noise: Tensor<'float32'> = createGenerator('numpy-legacy', 7).randn([2, 3]);
const next: number = createScheduler('ddim', {}).initNoiseSigma;
const report: ReportDocument = readReport('out/report');
const cosine: number | undefined = report.steps[0]?.teacherForced.noisePred?.cosine;
const names: readonly string[] = SCHEDULER_NAMES;
const options: DescribeSuiteOptions = { expectFailOn: 'teacherForced.noisePred.cosine', timeout: 1000 };
const judged: { pass: boolean } = toPassGates(report);
expect(report).toPassGates();
expect(noise).toMatchReference(noise, { cosine: 0.99 });
void [next, cosine, names, options, judged, describeSuite, {} as MetricSet];

// @ts-expect-error: the generator kinds are 'torch-cpu' and 'numpy-legacy'
createGenerator('mt19937', 1);
// @ts-expect-error: toPassGates takes no argument
expect(report).toPassGates(1);
// @ts-expect-error: toMatchReference needs the reference tensor and bounds
expect(noise).toMatchReference();
// @ts-expect-error: the exports map offers only 'lockstep' and 'lockstep/vitest'
await import('lockstep/dist/index.js');
`;

const NEGATIVE_TEST = `import { readReport } from 'lockstep';
import 'lockstep/vitest';
import { expect, it } from 'vitest';

it('toPassGates fails a report whose gate failed, naming it', () => {
  const report = readReport('out/report');
  report.verdict = 'fail';
  report.gates[0] = { ...report.gates[0]!, passed: false };
  expect(() => expect(report).toPassGates()).toThrow(/expected the report to pass its gates/);
});
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, outDir: 'build', types: ['node'] },
  include: ['example.ts', 'types.ts', 'lockstep.test.ts', 'negative.test.ts', 'api/*.ts', 'api.test.ts'],
};

beforeAll(() => {
  const packed = JSON.parse(ok('npm', ['pack', '--json', '--pack-destination', root], REPO_ROOT).replace(/^[^[]*/, ''));
  packedFiles = packed[0].files.map((f: { path: string }) => f.path);
  const tarball = join(root, packed[0].filename);
  const link = (name: string) => `file:${join(REPO_ROOT, 'node_modules', name)}`;
  const devDependencies = Object.fromEntries([
    ['lockstep', `file:${tarball}`],
    ...[...Object.keys(pkg.dependencies), 'vitest', 'typescript', '@types/node'].map((n) => [n, link(n)]),
  ]);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', devDependencies }, null, 2));
  // --ignore-scripts: linked folders would otherwise run their own prepare scripts (onnxruntime-node's needs its sources).
  ok('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  const files = { ...docExamples(), 'types.ts': TYPES_TS, 'negative.test.ts': NEGATIVE_TEST, 'run-api-examples.mjs': RUN_API_EXAMPLES, 'tsconfig.json': JSON.stringify(TSCONFIG, null, 2) };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, name)), { recursive: true });
    writeFileSync(join(project, name), text);
  }
}, 900_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Each step runs real processes (npm, tsc, models); generous for a loaded machine (CI takes seconds). */
const SLOW = 600_000;

describe('the packed package, installed into an empty project', () => {
  it('ships the compiled code, its declarations and runtime assets, and none of the sources or tests', () => {
    for (const f of ['bin/lockstep.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/vitest.js', 'dist/vitest.d.ts', 'dist/cli/main.js', 'assets/clip-vocab/vocab.json', 'package.json', 'README.md']) {
      expect(packedFiles, f).toContain(f);
    }
    const runtimeFiles = readdirSync(join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(wasm|mjs)$/.test(f));
    expect(runtimeFiles.length).toBeGreaterThan(0);
    for (const f of runtimeFiles) expect(packedFiles, 'a file loaded at run time (scripts/build.mjs RUNTIME_FILES)').toContain(`dist/${f.split(sep).join('/')}`);
    expect(packedFiles.filter((f) => /^(src|test|bench|scripts|docs|suites\/.*\.ya?ml)\b|\.test\.|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('the documented examples are all there: README (library, suite, vitest file) and one per docs/api.md entry', () => {
    const names = Object.keys(docExamples());
    expect(names.filter((n) => !n.startsWith('api')).sort()).toEqual(['example.ts', 'lockstep.test.ts', 'suites/tiny.yaml']);
    expect(names.filter((n) => n.startsWith('api/')).length).toBeGreaterThanOrEqual(13);
    expect(names).toContain('api.test.ts');
  });

  it('npx lockstep (and the bin npm linked) runs the compiled CLI: --version, forge tiny, generate', () => {
    expect(existsSync(join(project, 'node_modules/lockstep/src'))).toBe(false);
    expect(ok('npx', ['--offline', 'lockstep', '--version'])).toContain(pkg.version);
    ok(bin('lockstep'), ['forge', 'tiny', '--out', 'cli-model']);
    expect(existsSync(join(project, 'cli-model/unet/model.onnx'))).toBe(true);
    const gen = ['generate', '--model', 'cli-model', '--prompt', 'a red cube', '--seed', '3', '--steps', '2', '--height', '64', '--width', '64', '--out', 'cli.png', '--quiet'];
    ok(bin('lockstep'), gen);
    expect(readFileSync(join(project, 'cli.png')).subarray(1, 4).toString()).toBe('PNG');
    const bad = run(bin('lockstep'), ['generate', '--model', 'no-such-folder', '--prompt', 'x', '--seed', '1', '--out', 'x.png']);
    expect(bad.status).toBe(2);
  }, SLOW);

  it("tsc accepts README's and docs/api.md's examples and the type assertions against the shipped declarations; the examples run", () => {
    const tsc = run(bin('tsc'), ['-p', '.']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    const out = ok('node', ['build/example.js']);
    expect(out).toMatch(/^verdict: pass \(\d+ gates\)$/m);
    expect(out).toContain('initial latents vs torch.randn: max |diff| 0\n');
    expect(out).toMatch(/^Euler timesteps: 999, 666, 333, 0$/m);
    const api = run('node', ['run-api-examples.mjs']);
    expect(api.stderr).toBe('');
    expect(api.status).toBe(0);
    expect(api.stdout.match(/^== /gm)?.length).toBe(Object.keys(docExamples()).filter((n) => n.startsWith('api/')).length);
    expect(api.stdout).toContain('true api-out/no-such-trace: trace folder not found');
  }, SLOW);

  it("vitest runs README's and docs/api.md's test files (describeSuite, toPassGates, toMatchReference) and a failing report fails the matcher", () => {
    const r = run(bin('vitest'), ['run', 'lockstep.test.ts', 'negative.test.ts', 'api.test.ts', '--reporter=json', '--outputFile=vitest.json']);
    const result = JSON.parse(readFileSync(join(project, 'vitest.json'), 'utf8'));
    const tests = result.testResults.flatMap((f: { assertionResults: { fullName: string; status: string }[] }) => f.assertionResults);
    expect(tests.map((t: { fullName: string; status: string }) => `${t.status} ${t.fullName}`).sort(), r.stderr).toEqual([
      'passed a step of the trace matches itself, and not a scaled copy',
      'passed suite tiny seed-1',
      'passed the int8 report failed where the matcher says',
      'passed the tiny model matches its own trace',
      'passed toPassGates fails a report whose gate failed, naming it',
    ]);
    expect(r.status).toBe(0);
  }, SLOW);
});
