/**
 * `npm run readme-figure`: reruns README's example comparison
 * (src/tools/readme-figure.ts: README_FIGURE), screenshots its report.html
 * into docs/images/report.png with headless Chromium, writes the caption into
 * README.md between its markers and prints it. `-- --model DIR --name TEXT`
 * uses another model folder for one run.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderPages } from '../src/report/testing/browser.ts';
import { REPO_ROOT } from '../src/testing/paths.ts';
import { README_FIGURE, caption, readReadme, runFigure, withCaption } from '../src/tools/readme-figure.ts';
import { writeFileAtomic } from '../src/util/fs.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, name: { type: 'string' } } });
const spec = { ...README_FIGURE, ...(values.model ? { model: resolve(values.model), modelName: values.name ?? values.model } : {}) };
const reportDir = join(REPO_ROOT, 'reports', 'readme-figure');
const report = await runFigure(spec, reportDir);
const shots = mkdtempSync(join(tmpdir(), 'lockstep-readme-figure-'));
const { shots: files } = await renderPages([{ name: 'report', file: join(reportDir, 'report.html') }], [1400], 1500, shots);
copyFileSync(files['report-1400'], join(REPO_ROOT, 'docs', 'images', 'report.png'));
const text = caption(spec, report);
writeFileAtomic(join(REPO_ROOT, 'README.md'), withCaption(readReadme(REPO_ROOT), text));
process.stdout.write(`${text}\n(docs/images/report.png and README.md updated; report in ${reportDir})\n`);
