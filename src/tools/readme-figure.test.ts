/**
 * README's caption must be what `npm run readme-figure` prints: the same
 * comparison rerun here, its caption compared with the README's text between
 * the markers. When this fails, run `npm run readme-figure` and commit the
 * README and docs/images/report.png it writes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/paths.ts';
import { README_FIGURE, caption, readReadme, readmeCaption, runFigure } from './readme-figure.ts';

describe('README figure', () => {
  it("README's caption is what `npm run readme-figure` prints for the current build", async () => {
    const documented = readmeCaption(readReadme(REPO_ROOT));
    expect(documented, 'README.md caption markers').not.toBeNull();
    const report = await runFigure(README_FIGURE, mkdtempSync(join(tmpdir(), 'lockstep-readme-figure-')));
    expect(documented).toBe(caption(README_FIGURE, report));
  });
});
