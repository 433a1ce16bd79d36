/**
 * `lockstep … | head`: the reader closes the pipe after a few lines. The command must not die on an
 * unhandled EPIPE with a stack trace; it drops the rest of its output and exits as it would have.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/testing/paths.ts';

function runWithEarlyClose(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'lockstep.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Like a `head` that has already exited: our end of the pipe closes before the first write.
    child.stdout.destroy();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('stdout closed by the reader', () => {
  it('`lockstep schedulers` exits 0 without an EPIPE trace', async () => {
    const r = await runWithEarlyClose(['schedulers']);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
  });
});
