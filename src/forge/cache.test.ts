import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/paths.ts';
import { ensureTinyModel } from './cache.ts';
import { hashTree } from './tiny.ts';
import { FORGE_VERSION } from './version.ts';

const run = promisify(execFile);
const cacheDir = mkdtempSync(join(tmpdir(), 'lockstep-cache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('ensureTinyModel', () => {
  it('is safe when several processes ask at once: all get the one complete folder, no temporary leftovers', async () => {
    const script = `import { ensureTinyModel } from './src/forge/cache.ts'; process.stdout.write(await ensureTinyModel(2, ${JSON.stringify(cacheDir)}));`;
    const child = () => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT });
    const results = await Promise.all([child(), child(), child()]);
    const expected = join(cacheDir, `tiny-seed2-v${FORGE_VERSION}`);
    expect(results.map((r) => r.stdout)).toEqual([expected, expected, expected]);
    expect(readdirSync(cacheDir)).toEqual([`tiny-seed2-v${FORGE_VERSION}`]);
    expect(Object.keys(hashTree(expected))).toContain('unet/model.onnx');
    // A later call finds it without forging again.
    expect(await ensureTinyModel(2, cacheDir)).toBe(expected);
  }, 60_000);
});
