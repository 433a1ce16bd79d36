/**
 * JSON as Python's `json` module writes it may contain NaN, Infinity and
 * -Infinity (diffusers saves `lambda_min_clipped: -Infinity`). JSON5 is a
 * superset that reads them; everything else parses as plain JSON would.
 * Plain JSON.parse is tried first: on valid JSON it gives the same values,
 * and it is ~30× faster than JSON5's parser (a model folder's configs are read
 * on every run: 13 files of an SDXL folder took 53 ms through JSON5, 1.7 ms).
 */
import { readFileSync } from 'node:fs';
import JSON5 from 'json5';
import { UsageError } from '../errors.ts';

export function parsePythonJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // NaN / Infinity (or not JSON at all: JSON5 names what is wrong).
  }
  try {
    return JSON5.parse(text);
  } catch (err) {
    throw new UsageError(`${name}: not valid JSON (${(err as Error).message})`);
  }
}

export function readPythonJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parsePythonJson(text, path);
}
