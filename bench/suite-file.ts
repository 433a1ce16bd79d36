/** The bench's tiny suite: tiny seed 0 as reference, tiny seed 1 as candidate, `cases` cases (seeds 0…). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeBenchSuite(dir: string, cases: number, steps: number, size: number): string {
  const file = join(dir, 'suite.yaml');
  const lines = [
    'name: bench',
    'reference:',
    '  model: builtin:tiny',
    'candidate:',
    '  model: builtin:tiny?seed=1',
    'defaults:',
    '  prompt: a photograph of an astronaut riding a horse',
    `  steps: ${steps}`,
    `  height: ${size}`,
    `  width: ${size}`,
    'cases:',
    ...Array.from({ length: cases }, (_, i) => `  - name: case-${i}\n    seed: ${i}`),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
