/**
 * Every report page in a real browser (headless Chromium, as CI installs it)
 * at 1400 px and 800 px: no horizontal scroll, nothing reaching past the
 * page's edge or clipped (tables may scroll inside their own box). The
 * screenshots go to a temporary folder, or to docs/images/pages/ with
 * LOCKSTEP_UPDATE_DOCS=1 (`npm run docs:screenshots`).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { writeLocalizeReport } from '../localize/report.ts';
import { syntheticLocalizeResult } from '../localize/testing/fixture.ts';
import type { CaseResult } from '../suite/run.ts';
import { renderIndexHtml } from '../suite/index-html.ts';
import { REPO_ROOT } from '../testing/paths.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { CHROMIUM, renderPages } from './testing/browser.ts';
import { syntheticReport } from './testing/fixture.ts';
import { writeFixtureFiles } from './testing/fixture-files.ts';
import { readReport, writeReport } from './write.ts';

const WIDTHS = [1400, 800] as const;
const SHOTS = process.env.LOCKSTEP_UPDATE_DOCS === '1' ? join(REPO_ROOT, 'docs/images/pages') : mkdtempSync(join(tmpdir(), 'lockstep-shots-'));
const tmp = () => mkdtempSync(join(tmpdir(), 'lockstep-pages-'));

async function mainReport(dir: string, divergeAt?: number): Promise<string> {
  await writeFixtureFiles(dir);
  const r = syntheticReport({ divergeAt, nanAt: divergeAt === undefined ? undefined : 8 });
  r.worstStepHistogram = { step: 6, tensor: 'teacherForced.noisePred', histogram: { lowExponent: -6, binsPerDecade: 4, counts: [3, 10, 40, 120, 300, 280, 150, 60, 20, 5, 1], zeros: 7, nonFinite: 0 } };
  await writeReport(dir, r, { html: true });
  return join(dir, 'report.html');
}

describe.skipIf(!CHROMIUM)('report pages in headless Chromium at 1400 and 800 px', () => {
  it('main report, localize report and suite index: no horizontal scroll, nothing clipped, screenshots', async () => {
    const pages = [
      { name: 'report', file: await mainReport(tmp(), 6) },
      { name: 'localize', file: await localizePage() },
      { name: 'suite-index', file: await suiteIndex() },
    ];
    // A page that does scroll and clip, to show the probe sees both (not saved as a screenshot).
    const broken = join(tmp(), 'broken.html');
    writeFileAtomic(broken, '<!doctype html><html><body><div style="width:1500px">wide</div><p style="overflow:hidden;white-space:nowrap;width:200px">' + 'a long unbroken node path '.repeat(20) + '</p></body></html>');
    mkdirSync(SHOTS, { recursive: true });
    const { layouts, shots } = await renderPages([...pages, { name: 'broken', file: broken }], WIDTHS, 1800, SHOTS);
    for (const w of WIDTHS) rmSync(shots[`broken-${w}`]);
    expect(layouts['broken-800'].scrollWidth).toBeGreaterThan(800);
    expect(layouts['broken-1400'].clipped.join('\n')).toMatch(/div .*right edge \d+ > 1400[\s\S]*p .*content clipped/);
    for (const p of pages) {
      for (const w of WIDTHS) {
        const l = layouts[`${p.name}-${w}`];
        expect(l.clientWidth, `${p.name} at ${w} px`).toBe(w);
        expect(l.clipped, `${p.name} at ${w} px`).toEqual([]);
        expect(l.scrollWidth, `${p.name} at ${w} px: horizontal scroll`).toBeLessThanOrEqual(l.clientWidth);
        const shot = shots[`${p.name}-${w}`];
        expect(statSync(shot).size).toBeGreaterThan(20_000);
        // A blank or error page is one flat colour.
        expect((await sharp(shot).stats()).channels[0].stdev, shot).toBeGreaterThan(10);
      }
    }
    const { data } = await sharp(shots['report-1400']).extract({ left: 200, top: 30, width: 40, height: 40 }).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(150); // the failing run's red banner
    expect(data[1]).toBeLessThan(80);
  }, 300_000); // two browser starts: seconds on an idle machine, minutes on a saturated one
});

async function localizePage(): Promise<string> {
  const dir = tmp();
  await writeLocalizeReport(syntheticLocalizeResult(), dir);
  return join(dir, 'report.html');
}

async function suiteIndex(): Promise<string> {
  const suiteDir = join(tmp(), 'demo-suite');
  const cases: CaseResult[] = [];
  for (const [name, divergeAt] of [['ddim-20-steps', undefined], ['int8-dynamic', 3]] as const) {
    const dir = join(suiteDir, name);
    await mainReport(dir, divergeAt);
    cases.push({ name, reportDir: dir, report: readReport(dir), error: null, stale: false, seconds: 1 });
  }
  cases.push({ name: 'sd15-fp16', reportDir: join(suiteDir, 'sd15-fp16'), report: null, error: 'models/sd15-fp16: no such model folder (suite candidate.model)', stale: false, seconds: 0 });
  const file = join(suiteDir, 'index.html');
  writeFileAtomic(file, renderIndexHtml('demo-suite', cases));
  return file;
}
