/** suites/suite.schema.json must be what the zod schema generates; LOCKSTEP_UPDATE_SCHEMA=1 rewrites it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { suiteJsonSchema } from '../src/suite/schema.ts';
import { REPO_ROOT } from '../src/testing/paths.ts';

const FILE = join(REPO_ROOT, 'suites/suite.schema.json');

it('suites/suite.schema.json is up to date with src/suite/schema.ts', () => {
  const text = JSON.stringify(suiteJsonSchema(), null, 2) + '\n';
  if (process.env.LOCKSTEP_UPDATE_SCHEMA === '1') writeFileSync(FILE, text);
  const stored = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '';
  expect(stored, 'stale: run LOCKSTEP_UPDATE_SCHEMA=1 npx vitest run suites/schema.test.ts').toBe(text);
});
