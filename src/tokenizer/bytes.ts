/**
 * GPT-2/CLIP's reversible byte → character table: printable Latin-1 bytes map
 * to themselves, the other 68 bytes to U+0100 upwards, so BPE never sees
 * spaces or control characters.
 */
function buildByteTable(): string[] {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep(b) ? b : 256 + next++);
  return table;
}

const BYTE_TO_CHAR = buildByteTable();
const utf8 = new TextEncoder();

/** The UTF-8 bytes of `text`, each replaced by its table character. */
export function byteEncode(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}
