/**
 * Text-to-image never calls the VAE encoder, so loading a folder for it leaves the encoder unopened:
 * no session time or weights for it, and a broken encoder file does not stop a run that never needs it.
 * Image-to-image (or a later image-to-image run on the same loaded build) opens it on first use.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { OnnxComponent } from '../models/component.ts';
import { UsageError } from '../errors.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { generate } from './generate.ts';
import { loadPipelineModel } from './load.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from './settings.ts';
import { preprocessImage } from './img2img.ts';
import { readPng } from './image.ts';

const MODEL = join(FAMILIES_REFERENCE, 'sd', 'model');
const INPUT = join(FAMILIES_REFERENCE, 'sd', 'input.png');
const TXT2IMG: PipelineSettings = { ...DEFAULT_SETTINGS, prompt: 'a cat', seed: 1, steps: 2, height: 64, width: 64 };
const IMG2IMG: PipelineSettings = { ...TXT2IMG, steps: 3, strength: 0.8, image: INPUT };

const tmp = mkdtempSync(join(tmpdir(), 'lockstep-deferred-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The sd reference folder with its VAE encoder replaced by bytes no runtime can load. */
function folderWithBrokenEncoder(): string {
  const dir = join(tmp, 'broken-encoder');
  cpSync(MODEL, dir, { recursive: true });
  writeFileSync(join(dir, 'vae_encoder', 'model.onnx'), 'not an onnx model');
  return dir;
}

describe('the VAE encoder opens only when a run calls it', () => {
  it('a text-to-image load leaves it unopened; encoding an image opens it then, with the eager answer', async () => {
    const lazy = await loadPipelineModel(MODEL, undefined, TXT2IMG);
    const eager = await loadPipelineModel(MODEL);
    try {
      expect(Object.keys(lazy.onnx.signatures())).not.toContain('vae_encoder');
      expect(Object.keys(eager.onnx.signatures())).toContain('vae_encoder');
      expect(lazy.onnx.has('vae_encoder')).toBe(true);
      const image = preprocessImage(await readPng(INPUT), 64, 64, INPUT);
      const sessionsBefore = lazy.onnx.clock.sessionSeconds;
      const fromLazy = await lazy.onnx.encodeImage(image);
      expect(lazy.onnx.clock.sessionSeconds).toBeGreaterThan(sessionsBefore); // opened now, on the run's clock
      expect(Object.keys(lazy.onnx.signatures())).toContain('vae_encoder');
      const fromEager = await eager.onnx.encodeImage(image);
      expect(fromLazy.kind).toBe(fromEager.kind);
      expect(Array.from(fromLazy.tensor.data)).toEqual(Array.from(fromEager.tensor.data));
    } finally {
      await lazy.onnx.release();
      await eager.onnx.release();
    }
  });

  it('callers that need it at once share one opening', async () => {
    const model = await loadPipelineModel(MODEL, undefined, TXT2IMG);
    const opens = vi.spyOn(OnnxComponent, 'open');
    try {
      const image = preprocessImage(await readPng(INPUT), 64, 64, INPUT);
      const [a, b] = await Promise.all([model.onnx.encodeImage(image), model.onnx.encodeImage(image)]);
      expect(Array.from(a.tensor.data)).toEqual(Array.from(b.tensor.data));
      await model.onnx.openDeferred('vae_encoder'); // already open: a no-op
      expect(opens.mock.calls.filter(([name]) => name === 'vae_encoder')).toHaveLength(1);
    } finally {
      opens.mockRestore();
      await model.onnx.release();
    }
  });

  it('a broken encoder file does not stop text-to-image, and image-to-image names it', async () => {
    const dir = folderWithBrokenEncoder();
    const ok = await generate({ model: dir, settings: TXT2IMG });
    expect(ok.image.width).toBe(64);
    const failed = generate({ model: dir, settings: IMG2IMG });
    await expect(failed).rejects.toBeInstanceOf(UsageError);
    await expect(failed).rejects.toThrow(/vae_encoder[/\\]model\.onnx: not a loadable ONNX model for the vae_encoder/);
  });
});
