/**
 * transformers' slow `CLIPTokenizer` (ftfy absent) with
 * `padding="max_length", max_length=77, truncation=True`.
 */
import { UsageError } from '../errors.ts';
import { Bpe } from './bpe.ts';
import { byteEncode } from './bytes.ts';
import { readTokenizerFolder, type ClipTokenizerFiles, type SpecialTokens } from './files.ts';
import { cleanText, preTokenize } from './normalize.ts';
import { join } from 'node:path';

export interface ClipEncoding {
  /** Exactly maxLength ids: bos, at most maxLength − 2 prompt ids, eos, then pad. */
  ids: number[];
  /** True when the prompt had more than maxLength − 2 tokens and the tail was dropped. */
  truncated: boolean;
  /** Prompt tokens before truncation, without bos/eos. */
  tokenCount: number;
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly maxLength: number;
  private readonly unkId: number;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly bpe: Bpe;
  /** Splits the raw text around the special tokens (a capture group keeps them). */
  private readonly specialSplit: RegExp;
  private readonly specials: ReadonlySet<string>;

  constructor(files: ClipTokenizerFiles, vocabFile = 'vocab.json') {
    const { vocab, ranks, special } = files;
    const idOf = (role: keyof Omit<SpecialTokens, 'maxLength'>): number => {
      const id = vocab.get(special[role]);
      if (id === undefined) throw new UsageError(`${vocabFile}: ${role} token ${JSON.stringify(special[role])} is not in the vocabulary`);
      return id;
    };
    this.vocab = vocab;
    this.bosId = idOf('bos');
    this.eosId = idOf('eos');
    this.padId = idOf('pad');
    this.unkId = idOf('unk');
    this.maxLength = special.maxLength;
    this.bpe = new Bpe(ranks, [special.bos, special.eos]);
    // transformers registers bos, eos, unk and pad as added tokens and cuts them out of the raw text
    // before cleanup and BPE, each one symbol without `</w>`: with OpenCLIP's pad token (SD 2.x) a "!" in a
    // prompt is the pad id 0, not "!</w>".
    this.specials = new Set([special.bos, special.eos, special.unk, special.pad]);
    const alternatives = [...this.specials].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.specialSplit = new RegExp(`(${alternatives.join('|')})`, 'u');
  }

  /** The BPE symbols of a prompt (e.g. `astronaut</w>`; special tokens as they are), no bos/eos, not truncated. */
  tokenize(prompt: string): string[] {
    return prompt
      .split(this.specialSplit)
      .flatMap((part) => (this.specials.has(part) ? [part] : preTokenize(cleanText(part)).flatMap((word) => this.bpe.encode(byteEncode(word)))));
  }

  /** Token ids, unknown symbols mapped to unk; no bos/eos, not truncated. */
  tokenIds(prompt: string): number[] {
    return this.tokenize(prompt).map((s) => this.vocab.get(s) ?? this.unkId);
  }

  encode(prompt: string): ClipEncoding {
    const tokens = this.tokenIds(prompt);
    const room = this.maxLength - 2;
    const ids = [this.bosId, ...tokens.slice(0, room), this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return { ids, truncated: tokens.length > room, tokenCount: tokens.length };
  }
}

/** Loads a tokenizer folder (vocab.json, merges.txt, optional configs); UsageError names a missing or bad file. */
export function loadClipTokenizer(dir: string): ClipTokenizer {
  return new ClipTokenizer(readTokenizerFolder(dir), join(dir, 'vocab.json'));
}
