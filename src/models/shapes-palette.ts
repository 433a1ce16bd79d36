/**
 * The shapes model's data set description (models/shapes/dataset.json): palette and geometry, read by the
 * tests that check the trained model draws what its prompt names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../pipeline/image.ts';
import { SHAPES_MODEL_DIR } from './builtin.ts';

export interface ShapesDataset {
  size: number;
  colors: Record<string, [number, number, number]>;
  shapes: string[];
}

export function readShapesDataset(): ShapesDataset {
  return JSON.parse(readFileSync(join(SHAPES_MODEL_DIR, '..', 'dataset.json'), 'utf8')) as ShapesDataset;
}

/** A caption in the training data's template: "a red circle on a blue background" ("an" before a vowel). */
export function shapesCaption(color: string, shape: string, background: string): string {
  const article = (w: string) => (/^[aeiou]/.test(w) ? 'an' : 'a');
  return `${article(color)} ${color} ${shape} on ${article(background)} ${background} background`;
}

/** The palette colour nearest to an RGB pixel (Euclidean in RGB). */
export function nearestColor(palette: ShapesDataset['colors'], r: number, g: number, b: number): string {
  let best = '';
  let bestD = Infinity;
  for (const [name, [pr, pg, pb]] of Object.entries(palette)) {
    const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

export interface RegionColors {
  /** Fraction of the region's pixels nearest to each palette colour. */
  fractions: Record<string, number>;
  dominant: string;
}

/** Which palette colours a set of pixels is made of. */
export function regionColors(img: RgbImage, palette: ShapesDataset['colors'], inRegion: (x: number, y: number) => boolean): RegionColors {
  const counts: Record<string, number> = {};
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (!inRegion(x, y)) continue;
      const i = (y * img.width + x) * 3;
      const c = nearestColor(palette, img.data[i], img.data[i + 1], img.data[i + 2]);
      counts[c] = (counts[c] ?? 0) + 1;
      n++;
    }
  }
  const fractions = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / n]));
  const dominant = Object.entries(fractions).sort((a, b) => b[1] - a[1])[0][0];
  return { fractions, dominant };
}

/** The central 8x8 pixels (always inside the shape in the training data), scaled to the image size. */
export function centreRegion(img: RgbImage, size: number): (x: number, y: number) => boolean {
  const half = (4 * img.width) / size;
  const cx = img.width / 2;
  const cy = img.height / 2;
  return (x, y) => Math.abs(x + 0.5 - cx) <= half && Math.abs(y + 0.5 - cy) <= half;
}

/** The outer 4-pixel border (always background in the training data), scaled to the image size. */
export function borderRegion(img: RgbImage, size: number): (x: number, y: number) => boolean {
  const w = (4 * img.width) / size;
  return (x, y) => x < w || y < w || x >= img.width - w || y >= img.height - w;
}
