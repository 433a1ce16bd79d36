import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { parsePythonJson, stringifyPythonJson } from './json.ts';

describe('parsePythonJson', () => {
  it('reads what Python json writes: NaN, Infinity, -Infinity', () => {
    const v = parsePythonJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": [1, 2.5e-3]}', 'x.json') as Record<string, unknown>;
    expect(Number.isNaN(v.a)).toBe(true);
    expect([v.b, v.c, v.d]).toEqual([Infinity, -Infinity, [1, 0.0025]]);
  });

  it('gives plain JSON the values JSON.parse gives', () => {
    const text = '{"_class_name": "DDIMScheduler", "beta_start": 0.00085, "steps_offset": 1, "trained_betas": null, "clip_sample": false, "x": [0.1, 1e-30, -0]}';
    expect(parsePythonJson(text, 'x.json')).toEqual(JSON.parse(text));
  });

  it('names the file of what is not JSON', () => {
    expect(() => parsePythonJson('{"a": ', 'bad.json')).toThrow(UsageError);
    expect(() => parsePythonJson('{"a": ', 'bad.json')).toThrow(/^bad\.json: not valid JSON/);
  });
});

describe('stringifyPythonJson', () => {
  it('writes NaN, Infinity and -Infinity as Python json does, everything else as JSON.stringify', () => {
    const value = { a: NaN, b: [Infinity, -Infinity, 1.5], c: { d: null, e: 'x', f: -0 } };
    const text = stringifyPythonJson(value);
    expect(text).toContain('"a": NaN');
    expect(text).toContain('Infinity,\n    -Infinity,\n    1.5');
    expect(stringifyPythonJson({ c: value.c })).toBe(JSON.stringify({ c: value.c }, null, 2));
    const back = parsePythonJson(text, 'x.json') as typeof value;
    expect(Number.isNaN(back.a)).toBe(true);
    expect(back.b).toEqual([Infinity, -Infinity, 1.5]);
  });
});
