import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './index.ts';

describe('the lazily loaded command table', () => {
  it('has unique names', () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('`%s`: its module registers exactly that command, described as the table says', async (name, entry) => {
    const program = new Command('lockstep');
    for (const register of await entry.load()) register(program);
    expect(program.commands.map((c) => c.name())).toEqual([name]);
    expect(program.commands[0]!.description()).toBe(entry.summary);
  });
});
