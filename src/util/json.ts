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

const NON_FINITE = /"@@lockstep-non-finite:(NaN|Infinity|-Infinity)@@"/g;

/**
 * JSON as Python's `json.dumps` writes it: NaN, Infinity and -Infinity stay numbers, where JSON.stringify
 * would write null (a trace's schedulerConfig then loses diffusers' `lambda_min_clipped: -Infinity`, and
 * `from_config` of it in Python gets None).
 */
export function stringifyPythonJson(value: unknown, indent = 2): string {
  const marked = JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `@@lockstep-non-finite:${v}@@` : v), indent);
  return marked.replace(NON_FINITE, '$1');
}
