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
  }

  /** The BPE symbols of a prompt (e.g. `astronaut</w>`), no bos/eos, not truncated. */
  tokenize(prompt: string): string[] {
    return preTokenize(cleanText(prompt)).flatMap((word) => this.bpe.encode(byteEncode(word)));
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
