import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../main.ts';
import { REFERENCE_DIR } from '../../testing/paths.ts';

const VOCAB_DIR = join(REFERENCE_DIR, 'clip-vocab');
const cases: { prompt: string; ids_padded_77: number[] }[] = JSON.parse(
  readFileSync(join(REFERENCE_DIR, 'tokenizer/cases.json'), 'utf8'),
).cases;

describe('lockstep tokenize', () => {
  let stdout: MockInstance;
  let stderr: MockInstance;
  const written = (spy: MockInstance) => spy.mock.calls.map((c) => String(c[0])).join('');

  beforeEach(() => {
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it('prints the 77 reference ids as JSON', async () => {
    const c = cases[0];
    expect(await main(['node', 'lockstep', 'tokenize', '--tokenizer', VOCAB_DIR, '--prompt', c.prompt])).toBe(0);
    expect(JSON.parse(written(stdout))).toEqual(c.ids_padded_77);
    expect(written(stderr)).toBe('');
  });

  it('warns on stderr when the prompt is truncated', async () => {
    const prompt = new Array(80).fill('cat').join(' ');
    expect(await main(['node', 'lockstep', 'tokenize', '--tokenizer', VOCAB_DIR, '--prompt', prompt])).toBe(0);
    expect(JSON.parse(written(stdout))).toHaveLength(77);
    expect(written(stderr)).toMatch(/80 tokens.*first 75.*last 5 were truncated/);
  });

  it('exits 2 naming the missing file', async () => {
    expect(await main(['node', 'lockstep', 'tokenize', '--tokenizer', '/nonexistent/tok', '--prompt', 'x'])).toBe(2);
    expect(written(stderr)).toMatch(/\/nonexistent\/tok\/vocab\.json: not found/);
    expect(written(stdout)).toBe('');
  });
});
