/**
 * Text cleanup of transformers' CLIPTokenizer when ftfy is not installed:
 * `BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize(text)`
 * joined by single spaces. Steps: drop NUL, U+FFFD and control characters
 * (category C except \t \n \r), map whitespace (space, \t, \n, \r, category Zs)
 * to a space, surround CJK ideographs with spaces, NFC-normalize, split on
 * whitespace, lower-case each word (no accent stripping, no punctuation split).
 */
export function cleanText(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) out += ' ';
    else if (isCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out
    .normalize('NFC')
    .split(/\s+/u)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase())
    .join(' ');
}

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;

function isControl(ch: string): boolean {
  return ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch);
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_SEPARATOR.test(ch);
}

/** The CJK Unified Ideographs blocks BERT's tokenizer pads with spaces. */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * CLIP's pre-tokenizer pattern (transformers' `self.pat`, compiled with
 * re.IGNORECASE): special tokens, English contractions, letter runs, single
 * digits, runs of other non-space characters.
 */
export const CLIP_PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

export function preTokenize(cleaned: string): string[] {
  return cleaned.match(CLIP_PATTERN) ?? [];
}
