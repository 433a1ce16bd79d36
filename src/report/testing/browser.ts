/**
 * Headless Chromium for the page tests, through its command line only (no
 * DevTools client, no browser download). Every page is laid out at every
 * width in one browser run: a wrapper page holds one iframe per (page,
 * width), a script in it measures each frame's layout after load and writes
 * the result into the DOM, which `--dump-dom` prints; a second run
 * screenshots the wrapper, cut into one image per (page, width) with sharp.
 * Two browser starts in all, however many pages: starts dominate the time.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

const run = promisify(execFile);
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--hide-scrollbars', '--force-device-scale-factor=1', '--allow-file-access-from-files'];

export interface Layout {
  /** The frame's width and how wide its content is: scrollWidth > clientWidth means a horizontal scrollbar. */
  clientWidth: number;
  scrollWidth: number;
  /**
   * Elements outside the intentional scroll boxes (`.scroll`) that reach past
   * the right edge of the page, or clip their own content (overflow hidden
   * with wider content); "tag.class text…" each.
   */
  clipped: string[];
}

export interface Page {
  name: string;
  file: string;
}

export interface Rendered {
  /** Keyed `${name}-${width}`. */
  layouts: Record<string, Layout>;
  /** PNG files, keyed like layouts, in `shotsDir`. */
  shots: Record<string, string>;
}

/** Runs in the wrapper after every frame has loaded; `.scroll` boxes may scroll sideways inside, but must themselves fit. */
const MEASURE = `<script>addEventListener('load', () => {
  const result = {};
  for (const frame of document.querySelectorAll('iframe')) {
    const doc = frame.contentDocument, win = frame.contentWindow, width = doc.documentElement.clientWidth, clipped = [];
    const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') + ' ' + (el.textContent || '').trim().slice(0, 40);
    for (const el of doc.body.querySelectorAll('*')) {
      if (el.parentElement && el.parentElement.closest('.scroll')) continue;
      const r = el.getBoundingClientRect(), cs = win.getComputedStyle(el);
      if (r.width > 0 && r.right > width + 0.5) clipped.push(name(el) + ' (right edge ' + Math.round(r.right) + ' > ' + width + ')');
      else if (['hidden', 'clip'].includes(cs.overflowX) && el.scrollWidth > el.clientWidth + 1) clipped.push(name(el) + ' (content clipped)');
    }
    result[frame.dataset.key] = { clientWidth: width, scrollWidth: doc.documentElement.scrollWidth, clipped };
  }
  const out = document.createElement('pre');
  out.id = 'lockstep-layout';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});</script>`;

/** One Chromium run with its own profile folder (runs sharing the default profile wait on each other). */
async function chromium(args: string[]): Promise<string> {
  if (!CHROMIUM) throw new Error('no chromium');
  const profile = mkdtempSync(join(tmpdir(), 'lockstep-chromium-'));
  try {
    const { stdout } = await run(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args], { timeout: 120_000, maxBuffer: 64 << 20 });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Lays out and screenshots every page at every width (frames `height` px tall); two browser runs. */
export async function renderPages(pages: readonly Page[], widths: readonly number[], height: number, shotsDir: string): Promise<Rendered> {
  const total = widths.reduce((a, b) => a + b, 0);
  const frames: string[] = [];
  const cells: Array<{ key: string; left: number; top: number; width: number }> = [];
  pages.forEach((p, row) => {
    let left = 0;
    for (const w of widths) {
      const key = `${p.name}-${w}`;
      cells.push({ key, left, top: row * height, width: w });
      frames.push(`<iframe data-key="${key}" src="file://${resolve(p.file)}" style="position:absolute;left:${left}px;top:${row * height}px;width:${w}px;height:${height}px;border:0"></iframe>`);
      left += w;
    }
  });
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-pages-'));
  const wrapper = join(dir, 'pages.html');
  writeFileSync(wrapper, `<!doctype html><html><body style="margin:0">${frames.join('')}${MEASURE}</body></html>`);
  const size = `--window-size=${total},${pages.length * height}`;
  const shot = join(dir, 'all.png');
  const [dom] = await Promise.all([chromium([size, '--dump-dom', `file://${wrapper}`]), chromium([size, `--screenshot=${shot}`, `file://${wrapper}`])]);
  const m = /<pre id="lockstep-layout">(.*?)<\/pre>/s.exec(dom);
  if (!m) throw new Error('the layout probe did not run (no result in the DOM)');
  const layouts = JSON.parse(m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<string, Layout>;
  const shots: Record<string, string> = {};
  for (const c of cells) {
    shots[c.key] = join(shotsDir, `${c.key}.png`);
    await sharp(shot).extract({ left: c.left, top: c.top, width: c.width, height }).png({ palette: true, compressionLevel: 9 }).toFile(shots[c.key]);
  }
  rmSync(dir, { recursive: true, force: true });
  return { layouts, shots };
}
