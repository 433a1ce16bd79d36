import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { REFERENCE_DIR } from '../testing/paths.ts';
import { readTokenizerFolder } from './files.ts';
import { loadClipTokenizer } from './index.ts';

const VOCAB_DIR = join(REFERENCE_DIR, 'clip-vocab');
interface Case {
  prompt: string;
  ids_padded_77: number[];
}
const cases: Case[] = JSON.parse(readFileSync(join(REFERENCE_DIR, 'tokenizer/cases.json'), 'utf8')).cases;
const tokenizer = loadClipTokenizer(VOCAB_DIR);
const BOS = 49406;
const EOS = 49407;

/** The prompt ids of a reference case, without bos/eos/padding. */
function contentIds(c: Case): number[] {
  return c.ids_padded_77.slice(1, c.ids_padded_77.indexOf(EOS));
}
const caseOf = (prompt: string): Case => cases.find((c) => c.prompt === prompt)!;

describe('CLIP tokenizer against transformers reference ids', () => {
  it('has the reference cases', () => expect(cases.length).toBeGreaterThanOrEqual(9));

  it.each(cases.map((c) => [JSON.stringify(c.prompt), c] as const))('encodes %s exactly', (_, c) => {
    const enc = tokenizer.encode(c.prompt);
    expect(enc.ids).toEqual(c.ids_padded_77);
    expect(enc.truncated).toBe(false);
    expect(enc.tokenCount).toBe(contentIds(c).length);
  });

  it('encodes the empty prompt as bos, eos, padding', () => {
    const enc = tokenizer.encode('');
    expect(enc.ids).toEqual([BOS, ...new Array(76).fill(EOS)]);
    expect(enc.tokenCount).toBe(0);
    expect(enc.truncated).toBe(false);
  });

  it('truncates a long prompt to 75 ids and flags it', () => {
    // Eight copies of a reference prompt: 80 tokens, the ids are the reference's repeated.
    const base = caseOf('a photo of an astronaut riding a horse on mars');
    const prompt = new Array(8).fill(base.prompt).join(' ');
    const all = new Array(8).fill(contentIds(base)).flat();
    const enc = tokenizer.encode(prompt);
    expect(enc.truncated).toBe(true);
    expect(enc.tokenCount).toBe(80);
    expect(enc.ids).toHaveLength(77);
    expect(enc.ids).toEqual([BOS, ...all.slice(0, 75), EOS]);
  });

  it('does not flag a prompt of exactly 75 tokens', () => {
    const word = caseOf('a cat'); // 2 tokens
    const prompt = new Array(37).fill('a cat').join(' ') + ' a';
    const enc = tokenizer.encode(prompt);
    expect(enc.tokenCount).toBe(75);
    expect(enc.truncated).toBe(false);
    expect(enc.ids.at(-1)).toBe(EOS);
    expect(enc.ids.slice(1, 3)).toEqual(contentIds(word));
  });

  it('cleans whitespace and control characters as BasicTokenizer does', () => {
    const ref = caseOf('a cat').ids_padded_77;
    expect(tokenizer.encode('  A\u0000 \u00a0CAT\u200b\r\n').ids).toEqual(ref);
  });

  it('keeps a special token written in the prompt as one id', () => {
    const [a, cat] = contentIds(caseOf('a cat'));
    expect(tokenizer.encode('a <|endoftext|> cat').ids.slice(0, 5)).toEqual([BOS, a, EOS, cat, EOS]);
  });

  it('tokenize gives BPE symbols with word ends', () => {
    expect(tokenizer.tokenize('A cat')).toEqual(['a</w>', 'cat</w>']);
  });
});

describe('tokenizer folder errors and settings', () => {
  function folder(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-tok-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }
  const tinyVocab = JSON.stringify({ a: 0, 'a</w>': 1, b: 2, 'b</w>': 3, 'ab</w>': 4, '<s>': 5, '</s>': 6 });
  const tinyMerges = '#version: 0.2\na b</w>\n';

  it('names a missing vocab.json', () => {
    const dir = folder({ 'merges.txt': tinyMerges });
    expect(() => loadClipTokenizer(dir)).toThrow(UsageError);
    expect(() => loadClipTokenizer(dir)).toThrow(/vocab\.json: not found/);
  });

  it('names a missing merges.txt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-tok-'));
    copyFileSync(join(VOCAB_DIR, 'vocab.json'), join(dir, 'vocab.json'));
    expect(() => loadClipTokenizer(dir)).toThrow(/merges\.txt: not found/);
  });

  it('names a folder that does not exist', () => {
    expect(() => loadClipTokenizer('/nonexistent/tok')).toThrow(/\/nonexistent\/tok\/vocab\.json/);
  });

  it('names an unparseable vocab.json and a bad merges line', () => {
    expect(() => loadClipTokenizer(folder({ 'vocab.json': '{', 'merges.txt': tinyMerges }))).toThrow(/vocab\.json: not valid JSON/);
    expect(() => loadClipTokenizer(folder({ 'vocab.json': tinyVocab, 'merges.txt': '#v\na b c\n' }))).toThrow(/merges\.txt: line 2/);
  });

  it('reads merges lines with any whitespace around or between the two symbols as transformers does', () => {
    const merges = '#version: 0.2\na b\n  a\tb</w>  \nb  a\nab b</w>\n';
    const { ranks } = readTokenizerFolder(folder({ 'vocab.json': tinyVocab, 'merges.txt': merges }));
    expect([...ranks]).toEqual([['a b', 0], ['a b</w>', 1], ['b a', 2], ['ab b</w>', 3]]);
    // Spaces only (the fast path): leading, trailing and doubled spaces still mean two symbols.
    const spaced = readTokenizerFolder(folder({ 'vocab.json': tinyVocab, 'merges.txt': '#v\n a b\nb a \nab  b\n' })).ranks;
    expect([...spaced]).toEqual([['a b', 0], ['b a', 1], ['ab b', 2]]);
    expect(() => readTokenizerFolder(folder({ 'vocab.json': tinyVocab, 'merges.txt': '#v\na b\nab\n' }))).toThrow(/merges\.txt: line 3 is "ab"/);
    expect(() => readTokenizerFolder(folder({ 'vocab.json': tinyVocab, 'merges.txt': '#v\n a\tb c\n' }))).toThrow(/merges\.txt: line 2/);
  });

  it('names a vocabulary id that is not a non-negative integer', () => {
    const bad = JSON.stringify({ a: 0, b: -1 });
    expect(() => readTokenizerFolder(folder({ 'vocab.json': bad, 'merges.txt': tinyMerges }))).toThrow(/vocab\.json: token "b" has id -1/);
  });

  it('refuses special tokens missing from the vocabulary', () => {
    expect(() => loadClipTokenizer(folder({ 'vocab.json': tinyVocab, 'merges.txt': tinyMerges }))).toThrow(
      /bos token "<\|startoftext\|>" is not in the vocabulary/,
    );
  });

  it('reads special tokens (string or AddedToken) and model_max_length from the configs, unk for unknown symbols', () => {
    const dir = folder({
      'vocab.json': tinyVocab,
      'merges.txt': tinyMerges,
      'tokenizer_config.json': JSON.stringify({ model_max_length: 5, bos_token: 'ignored', unk_token: 'a</w>', pad_token: 'b</w>' }),
      'special_tokens_map.json': JSON.stringify({ bos_token: { content: '<s>', lstrip: false }, eos_token: '</s>' }),
    });
    const tok = loadClipTokenizer(dir);
    expect(tok.encode('ab').ids).toEqual([5, 4, 6, 3, 3]); // merged 'ab</w>', padded with 'b</w>'
    expect(tok.encode('ab b')).toEqual({ ids: [5, 4, 3, 6, 3], truncated: false, tokenCount: 2 });
    // 'zz' → symbols 'z', 'z</w>', both unknown → unk 'a</w>' each; 4 tokens, 3 kept.
    expect(tok.encode('ab b zz')).toEqual({ ids: [5, 4, 3, 1, 6], truncated: true, tokenCount: 4 });
    // A special token in the text is cut out before BPE, as transformers' added tokens are: 'a', '</s>', 'b'.
    expect(tok.encode('a</s>b').ids).toEqual([5, 1, 6, 3, 6]);
  });

  it('parses identical vocab.json / merges.txt once (SDXL\'s two tokenizers), each folder keeping its own special tokens', () => {
    const special = (pad: string) => ({
      'special_tokens_map.json': JSON.stringify({ bos_token: '<s>', eos_token: '</s>', unk_token: 'a</w>', pad_token: pad }),
      'tokenizer_config.json': JSON.stringify({ model_max_length: 5 }),
    });
    const one = folder({ 'vocab.json': tinyVocab, 'merges.txt': tinyMerges, ...special('b</w>') });
    const two = folder({ 'vocab.json': tinyVocab, 'merges.txt': tinyMerges, ...special('</s>') });
    const other = folder({ 'vocab.json': tinyVocab.replace('"ab</w>":4', '"ab</w>":7'), 'merges.txt': tinyMerges, ...special('</s>') });
    const [a, b, c] = [one, two, other].map(readTokenizerFolder);
    expect(b.vocab).toBe(a.vocab);
    expect(b.ranks).toBe(a.ranks);
    expect(c.vocab).not.toBe(a.vocab);
    expect(c.vocab.get('ab</w>')).toBe(7);
    expect(c.ranks).toBe(a.ranks);
    expect([a.special.pad, b.special.pad]).toEqual(['b</w>', '</s>']);
    expect(loadClipTokenizer(one).encode('ab').ids).toEqual([5, 4, 6, 3, 3]);
    expect(loadClipTokenizer(two).encode('ab').ids).toEqual([5, 4, 6, 6, 6]);
    expect(loadClipTokenizer(other).encode('ab').ids).toEqual([5, 7, 6, 6, 6]);
  });
});
