import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readPythonJson } from '../util/json.ts';
import { REPO_ROOT } from '../testing/paths.ts';
import { numpyLogF32 } from './numpy-log.ts';

/** np.log on float32 values, written by scripts/reference/schedulers.py with numpy 1.24 on x86-64. */
const ref = readPythonJson(join(REPO_ROOT, 'test/reference/schedulers/numpy-log-f32.json')) as { x: number[]; log: number[] };

describe("numpy's float32 log", () => {
  it('reproduces np.log bit for bit, where a rounded Math.log differs on some values', () => {
    const ours = ref.x.map(numpyLogF32);
    expect(ours).toEqual(ref.log);
    const rounded = ref.x.filter((x, i) => Math.fround(Math.log(x)) !== ref.log[i]).length;
    expect(rounded).toBeGreaterThan(0);
  });
});
