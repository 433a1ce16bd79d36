/** The shipped tiny suites as part of `npm test` (64×64, 3 steps). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'vitest';
import { describeSuite } from '../src/suite/describe-suite.ts';
import { REPO_ROOT } from '../src/testing/paths.ts';

describeSuite(join(REPO_ROOT, 'suites/tiny-self-check.yaml'));
describeSuite(join(REPO_ROOT, 'suites/tiny-golden.yaml'), { goldenDir: join(REPO_ROOT, 'golden') });

// Needs the variant forge's programmatic API (src/forge/variants/index.ts).
const variants = existsSync(join(REPO_ROOT, 'src/forge/variants/index.ts'));
describe.skipIf(!variants)('int8-qdq regression', () => {
  if (variants) describeSuite(join(REPO_ROOT, 'suites/tiny-int8-qdq.yaml'), { expectFailOn: 'teacherForced.noisePred.cosine' });
});
