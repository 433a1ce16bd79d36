/**
 * Reading a Hugging Face CLIP tokenizer folder: vocab.json, merges.txt and,
 * when present, special_tokens_map.json / tokenizer_config.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { MergeRanks } from './bpe.ts';

export interface ClipTokenizerFiles {
  vocab: ReadonlyMap<string, number>;
  ranks: MergeRanks;
  special: SpecialTokens;
}

export interface SpecialTokens {
  bos: string;
  eos: string;
  pad: string;
  unk: string;
  /** Total sequence length including bos and eos (CLIP: 77). */
  maxLength: number;
}

export const CLIP_DEFAULTS: SpecialTokens = {
  bos: '<|startoftext|>',
  eos: '<|endoftext|>',
  pad: '<|endoftext|>',
  unk: '<|endoftext|>',
  maxLength: 77,
};

/** transformers' merges limit: `[1 : 49152 - 256 - 2 + 1]` of the file's lines. */
const MERGES_END = 49152 - 256 - 2 + 1;
/** transformers writes model_max_length ≈ 1e30 when a tokenizer has no limit. */
const UNSET_MAX_LENGTH = 1e18;

export function readTokenizerFolder(dir: string): ClipTokenizerFiles {
  return {
    vocab: parsedOnce(vocabs, join(dir, 'vocab.json'), parseVocab),
    ranks: parsedOnce(merges, join(dir, 'merges.txt'), parseMerges),
    special: readSpecialTokens(dir),
  };
}

/**
 * Parsed files by their text. SDXL's two tokenizers ship the same vocab.json and merges.txt (only the
 * special tokens differ), and so do the two builds of a compare: parsing CLIP's (49,408 tokens, 48,894
 * merges) takes ≈ 0.15 s of CPU each time, so identical text is parsed once. The maps are never
 * modified after parsing. A few entries at most: the oldest is dropped.
 */
const vocabs = new Map<string, Map<string, number>>();
const merges = new Map<string, Map<string, number>>();
const PARSED_KEPT = 2;

function parsedOnce(cache: Map<string, Map<string, number>>, file: string, parse: (text: string, file: string) => Map<string, number>): Map<string, number> {
  const text = readText(file);
  const hit = cache.get(text);
  if (hit) return hit;
  const parsed = parse(text, file);
  cache.set(text, parsed);
  if (cache.size > PARSED_KEPT) cache.delete(cache.keys().next().value as string);
  return parsed;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `unreadable (${(err as Error).message})`;
    throw new UsageError(`${file}: ${why}; a CLIP tokenizer folder needs vocab.json and merges.txt`, { cause: err });
  }
}

function readJson(file: string, text = readText(file)): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

function parseVocab(text: string, file: string): Map<string, number> {
  const json = readJson(file, text);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`${file}: expected a JSON object mapping tokens to ids`);
  }
  const vocab = new Map<string, number>();
  const ids = json as Record<string, unknown>;
  // Keys, not Object.entries: CLIP's 49,408 [token, id] pairs cost more to allocate than the map itself.
  for (const token of Object.keys(ids)) {
    const id = ids[token];
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new UsageError(`${file}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, expected a non-negative integer`);
    }
    vocab.set(token, id as number);
  }
  return vocab;
}

/** Line 0 is the `#version` header and is skipped, as transformers does, whatever it says. */
function parseMerges(text: string, file: string): Map<string, number> {
  const lines = text.trim().split(/\r\n|\r|\n/).slice(1, MERGES_END);
  const ranks = new Map<string, number>();
  // A file whose only whitespace is spaces and line ends (CLIP's) has lines "a b" that are their own key:
  // checking one space is enough, and a fifth of the time of splitting each of 48,894 lines.
  const plain = !OTHER_WHITESPACE.test(text);
  for (let rank = 0; rank < lines.length; rank++) {
    const line = lines[rank];
    const space = plain ? line.indexOf(' ') : -1;
    const isPair = space > 0 && space < line.length - 1 && line.indexOf(' ', space + 1) === -1;
    ranks.set(isPair ? line : mergeKey(line, rank, file), rank);
  }
  return ranks;
}

/** Whitespace other than the space and line ends. */
const OTHER_WHITESPACE = /[^\S \r\n]/;

/** "a b" from a line of two symbols with any whitespace around and between them. */
function mergeKey(line: string, rank: number, file: string): string {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2) {
    throw new UsageError(`${file}: line ${rank + 2} is ${JSON.stringify(line)}, expected two symbols separated by a space`);
  }
  return `${parts[0]} ${parts[1]}`;
}

/** special_tokens_map.json overrides tokenizer_config.json (as from_pretrained does), which overrides the CLIP defaults. */
function readSpecialTokens(dir: string): SpecialTokens {
  const configFile = join(dir, 'tokenizer_config.json');
  const mapFile = join(dir, 'special_tokens_map.json');
  const config = existsSync(configFile) ? asObject(readJson(configFile), configFile) : {};
  const map = existsSync(mapFile) ? asObject(readJson(mapFile), mapFile) : {};
  const pick = (key: 'bos' | 'eos' | 'pad' | 'unk'): string =>
    tokenContent(map[`${key}_token`], mapFile) ?? tokenContent(config[`${key}_token`], configFile) ?? CLIP_DEFAULTS[key];
  return {
    bos: pick('bos'),
    eos: pick('eos'),
    pad: pick('pad'),
    unk: pick('unk'),
    maxLength: maxLengthOf(config.model_max_length, configFile),
  };
}

function asObject(json: unknown, file: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError(`${file}: expected a JSON object`);
  return json as Record<string, unknown>;
}

/** A token is written either as a string or as an AddedToken object `{ "content": ... }`. */
function tokenContent(value: unknown, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  const content = (value as { content?: unknown }).content;
  if (typeof content === 'string') return content;
  throw new UsageError(`${file}: special token ${JSON.stringify(value)} is neither a string nor {"content": string}`);
}

function maxLengthOf(value: unknown, file: string): number {
  if (value === undefined || value === null) return CLIP_DEFAULTS.maxLength;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2) {
    throw new UsageError(`${file}: model_max_length ${JSON.stringify(value)} is not an integer ≥ 2`);
  }
  return value >= UNSET_MAX_LENGTH ? CLIP_DEFAULTS.maxLength : value;
}
