/**
 * JSON as Python's `json` module writes it may contain NaN, Infinity and
 * -Infinity (diffusers saves `lambda_min_clipped: -Infinity`). JSON5 is a
 * superset that reads them; everything else parses as plain JSON would.
 */
import { readFileSync } from 'node:fs';
import JSON5 from 'json5';
import { UsageError } from '../errors.ts';

export function parsePythonJson(text: string, name: string): unknown {
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
