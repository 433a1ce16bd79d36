/** CLIP BPE tokenizer, exactly as transformers' CLIPTokenizer. */
export { ClipTokenizer, loadClipTokenizer, type ClipEncoding } from './clip.ts';
export type { SpecialTokens } from './files.ts';
