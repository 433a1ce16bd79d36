import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { applyGates } from '../gates/index.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { parseReport } from './read-schema.ts';
import { stringifyReport } from './schema.ts';
import { renderJunit } from '../junit/junit.ts';
import { renderIndexHtml } from '../suite/index-html.ts';
import { renderSummary } from '../suite/summary.ts';
import { metricsFor, syntheticReport } from './testing/fixture.ts';
import { writeFixtureFiles } from './testing/fixture-files.ts';
import { readReport, writeReport } from './write.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'lockstep-report-'));

describe('report.json', () => {
  it('round-trips, non-finite numbers included', () => {
    const r = applyGates(syntheticReport({ nanAt: 3 }));
    r.components.vaeDecoder = { ...r.components.vaeDecoder!, sqnr: Infinity, cosine: NaN, relL2: -Infinity };
    const text = stringifyReport(r);
    expect(text).toContain('"sqnr": "Infinity"');
    expect(text).toContain('"cosine": "NaN"');
    const back = parseReport(JSON.parse(text), 'report.json');
    expect(back).toEqual(r);
    expect(back.components.vaeDecoder!.sqnr).toBe(Infinity);
    expect(back.components.vaeDecoder!.relL2).toBe(-Infinity);
    expect(Number.isNaN(back.components.vaeDecoder!.cosine)).toBe(true);
  });

  it('names the file and the key of an invalid value', () => {
    const json = JSON.parse(stringifyReport(syntheticReport()));
    json.steps[3].teacherForced.noisePred.cosine = 'high';
    expect(() => parseReport(json, '/x/report.json')).toThrow(/\/x\/report\.json: .*steps\[3\]\.teacherForced\.noisePred\.cosine: expected a number/);
    json.schema = 'lockstep.report/2';
    expect(() => parseReport(json, 'r.json')).toThrow(/schema/);
  });

  it('writes schema 1.2 and still reads a 1.1 report (no family component checks): they read as not checked, not gated', () => {
    const json = JSON.parse(stringifyReport(syntheticReport()));
    expect(json.schema).toBe('lockstep.report/1.2');
    expect(Object.keys(json.components)).toEqual(['textEncoder', 'textEncoder2', 'pooledEmbeds', 'vaeEncoder', 'vaeDecoder']);
    json.schema = 'lockstep.report/1.1';
    for (const k of ['textEncoder2', 'pooledEmbeds', 'vaeEncoder']) {
      delete json.components[k];
      delete json.thresholds.components[k];
    }
    const back = parseReport(json, 'old/report.json');
    expect(back.components.vaeEncoder).toBeNull();
    expect(back.components.textEncoder2).toBeNull();
    expect(back.components.textEncoder!.relL2).toBe(json.components.textEncoder.relL2);
    expect(back.thresholds.components.vaeEncoder).toEqual({});
    const rejudged = applyGates(back);
    expect(rejudged.verdict).toBe('pass');
    expect(rejudged.gates.some((g) => g.tensor === 'vaeEncoder')).toBe(false);
    expect(renderMarkdown(rejudged)).not.toContain('VAE encoder');
  });

  it('report.html and JUnit show the family component checks (1.2) when made, failing cells marked', async () => {
    const r = syntheticReport();
    r.components.textEncoder2 = metricsFor(3e-7);
    r.components.pooledEmbeds = metricsFor(4e-7);
    r.components.vaeEncoder = metricsFor(3e-2, 512);
    const judged = applyGates(r);
    const html = await renderHtml(judged, tmp());
    for (const label of ['text encoder 2', 'pooled text embeddings', 'VAE encoder']) expect(html).toContain(`<th>${label}</th>`);
    expect(html).toMatch(/<tr class="fail"><th>VAE encoder<\/th><td class="bad">/);
    expect(html).toContain('first divergence: VAE encoder (before the steps)');
    const xml = renderJunit('s', [{ name: 'c', reportDir: '/r', report: judged, error: null, stale: false, seconds: 1 }]);
    expect(xml).toContain('name="components.vaeEncoder.relL2"');
    expect(xml).toContain('components.vaeEncoder relL2 0.03 &gt; 0.001');
    expect(xml).toMatch(/name="components\.textEncoder2\.cosine" time="0"><\/testcase>/);
    // The suite's summary and index say where it diverged, though no step failed.
    const result = { name: 'c', reportDir: '/r', report: judged, error: null, stale: false, seconds: 1 };
    expect(renderSummary('s', [result], 's.yaml')).toMatch(/\| c \| ❌ fail \| vaeEncoder \(before the steps\) \|/);
    expect(renderIndexHtml('s', [result])).toContain('diverges at vaeEncoder (before the steps)');
    expect(await renderHtml(applyGates(syntheticReport()), tmp())).not.toContain('VAE encoder');
  });

  it('still reads a 1.0 report (no error statistics)', () => {
    const json = JSON.parse(stringifyReport(syntheticReport()));
    json.schema = 'lockstep.report/1';
    const back = parseReport(json, 'old/report.json');
    expect(back.steps[0].teacherForced.noisePred!.allclose).toBeUndefined();
    json.schema = 'lockstep.report/1.7';
    json.steps[0].teacherForced.noisePred.allclose = { atol: 1e-5, rtol: 1e-5, mismatched: 3, fraction: 0.003, later: true };
    expect(parseReport(json, 'new/report.json').steps[0].teacherForced.noisePred!.allclose!.mismatched).toBe(3);
  });

  it('accepts bare NaN/Infinity tokens as Python writes them', () => {
    const dir = tmp();
    const text = stringifyReport(syntheticReport()).replace('"sqnr": "Infinity"', '"sqnr": Infinity');
    expect(text).toContain('"sqnr": Infinity');
    writeFileSync(join(dir, 'report.json'), text);
    expect(readReport(dir).components.vaeDecoder!.sqnr).toBe(Infinity);
  });
});

describe('report.md', () => {
  it('states verdict, first divergence and a step table', () => {
    const md = renderMarkdown(applyGates(syntheticReport({ divergeAt: 6 })));
    expect(md).toMatch(/^# lockstep: FAIL\n/);
    expect(md).toContain('- first divergence: step 6 (timestep 310): teacher-forced noisePred cosine = 0.99875 (needs >= 0.9999)');
    expect(md).toContain('| step | timestep | TF cosine | TF relL2 | FR cosine | FR latents relL2 | guidance Δ cosine |');
    expect(md).toContain('| 6 | 310 | **0.99875000** | **0.05** |');
    expect(md).toContain('| 5 | 410 | 1.00000000 | 1.50e-6 |');
    expect(md).toContain('Image: PSNR 52.30 dB, SSIM 0.9991 (pass)');
  });

  it('says PASS, and marks an incomplete run', () => {
    expect(renderMarkdown(applyGates(syntheticReport()))).toMatch(/^# lockstep: PASS\n/);
    const md = renderMarkdown(applyGates(syntheticReport({ complete: false, steps: 4 })));
    expect(md).toMatch(/^# lockstep: FAIL \(INCOMPLETE\)/);
    expect(md).toContain('**INCOMPLETE**: stopped after 4 of 4 steps: candidate U-Net: session run failed');
    expect(md).toContain('| VAE decoder | not compared |');
  });
});

describe('report.html', () => {
  it('is self-contained and embeds the charts and heatmaps', async () => {
    const dir = tmp();
    await writeFixtureFiles(dir);
    const html = await renderHtml(applyGates(syntheticReport({ divergeAt: 6 })), dir);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//);
    const pngs = html.match(/src="data:image\/png;base64,[A-Za-z0-9+/=]+"/g) ?? [];
    // 3 charts + 3 image panes + 1 legend + 4 channels × (3 maps + 2 legends)
    expect(pngs.length).toBe(3 + 3 + 1 + 4 * 5);
    expect(html).toContain('alt="1 - cosine per step"');
    expect(html).toContain('alt="relL2 per step"');
    expect(html).toContain('alt="max abs error per step"');
    expect(html).toContain('<details open>'); // failing run: the step table is open
    expect(html).toContain('max 6</span>');
    expect(html).toContain('class="banner fail"');
  });

  it('marks exactly the cells whose own gate fails, and draws the worst step\'s error histogram', async () => {
    const r = syntheticReport();
    // relL2 fails at step 4 while cosine passes: only the relL2 cell is marked.
    r.steps[4].teacherForced.noisePred = { ...r.steps[4].teacherForced.noisePred!, relL2: 5e-3 };
    r.worstStepHistogram = { step: 4, tensor: 'teacherForced.noisePred', histogram: { lowExponent: -7, binsPerDecade: 4, counts: [1, 5, 20, 3], zeros: 2, nonFinite: 0 } };
    const judged = applyGates(r);
    const md = renderMarkdown(judged);
    expect(md).toMatch(/\| 4 \| \d+ \| 1\.00000000 \| \*\*5\.00e-3\*\* \|/);
    const html = await renderHtml(judged, tmp());
    const row = html.split('\n').find((l) => l.startsWith('<tr class="fail"><td>4</td>') && l.includes('<td>noisePred</td>') && l.includes('teacher-forced'))!;
    expect(row).toContain('<td class="bad">5.00e-3</td>');
    expect(row).not.toContain('<td class="bad">1.00000000</td>');
    expect(html).toContain('alt="error histogram of the worst step"');
  });

  it('shows missing pieces as "not compared"', async () => {
    const r = applyGates(syntheticReport({ complete: false }));
    const html = await renderHtml(r, tmp());
    expect(html).toContain('Final images (images/reference.png, images/candidate.png): not compared');
    expect(html).toContain('Final latents (tensors/final_latents.*.npy): not compared');
    expect(html).toContain('INCOMPLETE: stopped after 10 of 10 steps');
  });
});

describe('lockstep report DIR', () => {
  it('re-judges a stored report with overrides and sets the exit code', async () => {
    const dir = tmp();
    await writeReport(dir, syntheticReport({ divergeAt: 6 }), { html: false });
    expect(readReport(dir).verdict).toBe('fail');
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    let code: number;
    try {
      expect(await main(['node', 'lockstep', 'report', dir, '--no-html'])).toBe(1);
      code = await main(['node', 'lockstep', 'report', dir, '--no-html', '--threshold', 'cosine=off', '--threshold', 'relL2=off']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(out.join('')).toContain('# lockstep: PASS');
    const stored = readReport(dir);
    expect(stored.verdict).toBe('pass');
    expect(stored.thresholds.teacherForced.noisePred.cosine).toBeNull();
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/^# lockstep: PASS/);
  });

  it('exits 2 on an unknown key or a missing report', async () => {
    const dir = tmp();
    await writeReport(dir, syntheticReport(), { html: false });
    const err = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'lockstep', 'report', dir, '--threshold', 'cosin=1'])).toBe(2);
      expect(await main(['node', 'lockstep', 'report', tmp()])).toBe(2);
    } finally {
      process.stderr.write = err;
    }
  });
});
