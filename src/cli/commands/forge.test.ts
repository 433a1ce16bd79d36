import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../errors.ts';
import { forgeCommand, registerForge } from './forge.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-forge-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(): Command {
  const p = new Command('lockstep').exitOverride();
  registerForge(p);
  return p;
}

describe('lockstep forge tiny', () => {
  it('forges the pipeline with the given seed into --out', async () => {
    const out = join(dir, 'seed3');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program().parseAsync(['forge', 'tiny', '--out', out, '--seed', '3'], { from: 'user' });
    } finally {
      write.mockRestore();
    }
    expect(JSON.parse(readFileSync(join(out, 'forge.json'), 'utf8')).seed).toBe(3);
    expect(existsSync(join(out, 'unet', 'model.onnx'))).toBe(true);
  }, 30_000);

  it('rejects a seed that is not a non-negative integer, naming the flag', async () => {
    for (const seed of ['-1', '1.5', 'abc']) {
      await expect(program().parseAsync(['forge', 'tiny', '--out', join(dir, 'bad'), '--seed', seed], { from: 'user' })).rejects.toThrow(UsageError);
    }
    await expect(program().parseAsync(['forge', 'tiny', '--out', join(dir, 'bad'), '--seed', 'x'], { from: 'user' })).rejects.toThrow(/--seed/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it('rejects an unknown --preset, listing the presets', async () => {
    await expect(program().parseAsync(['forge', 'tiny', '--out', join(dir, 'bad'), '--preset', 'sd3'], { from: 'user' })).rejects.toThrow(/--preset: expected one of tiny, sd, sd2, .*sd15/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it('lets other subcommands attach to the same forge command', () => {
    const p = program();
    forgeCommand(p).command('variant');
    expect(p.commands.filter((c) => c.name() === 'forge')).toHaveLength(1);
    expect(forgeCommand(p).commands.map((c) => c.name())).toEqual(['tiny', 'variant']);
  });
});
