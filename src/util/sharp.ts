/**
 * sharp, loaded on first use: loading libvips takes ≈ 0.1 s of a process's start (80–120 ms measured
 * here), and most runs never read an image (text-to-image writes its PNG with node's zlib) or draw a
 * heatmap (report.html), so only those that do pay for it.
 */
import type sharpModule from 'sharp';

let loading: Promise<typeof sharpModule> | undefined;

export function loadSharp(): Promise<typeof sharpModule> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
