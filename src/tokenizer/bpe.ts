/**
 * CLIP's byte-pair encoding of one pre-token (already byte-encoded): the last
 * symbol carries the `</w>` word end, then the lowest-ranked adjacent pair is
 * merged everywhere, left to right, until no ranked pair remains.
 */
export const WORD_END = '</w>';

/** Merge ranks keyed by `first + ' ' + second` (symbols never contain a space). */
export type MergeRanks = ReadonlyMap<string, number>;

export class Bpe {
  private readonly cache = new Map<string, readonly string[]>();

  constructor(
    private readonly ranks: MergeRanks,
    /** Tokens returned whole, without `</w>` (CLIP's special tokens). */
    specialTokens: readonly string[],
  ) {
    for (const t of specialTokens) this.cache.set(t, [t]);
  }

  encode(token: string): readonly string[] {
    let symbols = this.cache.get(token);
    if (!symbols) {
      symbols = this.merge(token);
      this.cache.set(token, symbols);
    }
    return symbols;
  }

  private merge(token: string): string[] {
    let word = [...token];
    word[word.length - 1] += WORD_END;
    while (word.length > 1) {
      const best = this.bestPair(word);
      if (best === undefined) break;
      word = mergePair(word, best[0], best[1]);
    }
    return word;
  }

  /** The adjacent pair with the lowest merge rank, if any pair is ranked. */
  private bestPair(word: readonly string[]): [string, string] | undefined {
    let bestRank = Infinity;
    let best: [string, string] | undefined;
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = [word[i], word[i + 1]];
      }
    }
    return best;
  }
}

/** Replaces every non-overlapping occurrence of (first, second), scanning left to right. */
function mergePair(word: readonly string[], first: string, second: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < word.length) {
    if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
      out.push(first + second);
      i += 2;
    } else {
      out.push(word[i]);
      i += 1;
    }
  }
  return out;
}
