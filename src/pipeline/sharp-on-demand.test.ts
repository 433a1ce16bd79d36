/**
 * sharp (libvips, ≈ 0.1 s to load) is loaded only by runs that read an image: a text-to-image `generate`
 * writes its PNG with node's zlib and never maps libvips; an image-to-image one does. Each run is a fresh
 * process (this test's own worker has sharp loaded by other tests); libvips is seen in /proc/self/maps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES_REFERENCE, REPO_ROOT } from '../testing/paths.ts';

const out = mkdtempSync(join(tmpdir(), 'lockstep-sharp-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function generateAndListLibvips(extra: Record<string, unknown>): string[] {
  const script = `
    import { readFileSync } from 'node:fs';
    import { generate } from './src/pipeline/generate.ts';
    import { DEFAULT_SETTINGS } from './src/pipeline/settings.ts';
    const settings = { ...DEFAULT_SETTINGS, prompt: 'a cat', seed: 1, steps: 2, height: 64, width: 64, ...${JSON.stringify(extra)} };
    await generate({ model: ${JSON.stringify(join(FAMILIES_REFERENCE, 'sd', 'model'))}, settings, imageOut: ${JSON.stringify(join(out, 'image.png'))} });
    const maps = readFileSync('/proc/self/maps', 'utf8').split('\\n');
    process.stdout.write(JSON.stringify([...new Set(maps.filter((l) => /libvips/.test(l)).map((l) => l.split(/\\s+/).pop()))]));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generate failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

describe.runIf(process.platform === 'linux')('sharp is loaded on demand', () => {
  it('text-to-image never loads libvips', () => {
    expect(generateAndListLibvips({})).toEqual([]);
  }, 60_000);

  it('image-to-image does (it reads the input image with sharp)', () => {
    const libs = generateAndListLibvips({ image: join(FAMILIES_REFERENCE, 'sd', 'input.png'), strength: 0.5 });
    expect(libs.some((l) => /libvips-cpp/.test(l))).toBe(true);
  }, 60_000);
});
