/** The shipped example suites (the trained shapes model, 64×64, 3 steps) as part of `npm test`. */
import { join } from 'node:path';
import { describeSuite } from '../src/suite/describe-suite.ts';
import { REPO_ROOT } from '../src/testing/paths.ts';

describeSuite(join(REPO_ROOT, 'suites/shapes-self-check.yaml'));
describeSuite(join(REPO_ROOT, 'suites/shapes-golden.yaml'), { goldenDir: join(REPO_ROOT, 'golden') });
// A real regression, forged through the variant forge (int8 QDQ U-Net): must fail on this gate.
describeSuite(join(REPO_ROOT, 'suites/shapes-int8-qdq.yaml'), { expectFailOn: 'teacherForced.noisePred.cosine' });
