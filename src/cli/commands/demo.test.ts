import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../errors.ts';
import { registerDemo } from './demo.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(): Command {
  const p = new Command('lockstep').exitOverride();
  registerDemo(p);
  return p;
}

describe('lockstep demo --model', () => {
  it('runs on a forged family preset: image, trace and a passing report', async () => {
    const out = join(dir, 'sd2');
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    const p = program();
    try {
      await p.parseAsync(['demo', '--out', out, '--model', 'builtin:tiny?preset=sd2'], { from: 'user' });
    } finally {
      write.mockRestore();
    }
    expect(lines.join('')).toContain('builtin:tiny?preset=sd2, random weights forged by lockstep forge tiny');
    expect(lines.join('')).toMatch(/verdict PASS/);
    for (const f of ['image.png', 'trace/manifest.json', 'report/report.json']) expect(existsSync(join(out, f)), f).toBe(true);
  }, 120_000);

  it('refuses an unknown builtin naming the flag, before writing anything', async () => {
    const out = join(dir, 'bad');
    await expect(program().parseAsync(['demo', '--out', out, '--model', 'builtin:tiny?preset=sd3'], { from: 'user' })).rejects.toThrow(UsageError);
    await expect(program().parseAsync(['demo', '--out', out, '--model', 'builtin:tiny?preset=sd3'], { from: 'user' })).rejects.toThrow(/--model: unknown builtin/);
    expect(existsSync(out)).toBe(false);
  });
});
