/** Loaded builds shared within a process: one load per build, counted leases, components freed when all users are done. */
import { describe, expect, it, vi } from 'vitest';
import { ensureTinyModel } from '../forge/cache.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { makeTensor } from '../tensor/tensor.ts';
import { ModelPool, buildKey } from './loaded-models.ts';
import { join } from 'node:path';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from './settings.ts';

describe('ModelPool', () => {
  it('two users of the same build share one load; sessions go when the last lease ends', async () => {
    const model = await ensureTinyModel(0);
    const pool = new ModelPool();
    const a = await pool.acquire(model, DEFAULT_BACKEND);
    const b = await pool.acquire(`${model}/.`, { ...DEFAULT_BACKEND });
    const other = await pool.acquire(model, { ...DEFAULT_BACKEND, memPattern: !DEFAULT_BACKEND.memPattern });
    expect([a.opened, b.opened, other.opened]).toEqual([true, false, true]);
    expect(b.model).toBe(a.model);
    expect(other.model).not.toBe(a.model);
    expect(pool.size).toBe(2);
    const release = vi.spyOn(a.model.onnx, 'release');
    await a.release();
    await a.release();
    expect(release).not.toHaveBeenCalled();
    await b.release();
    expect(release).toHaveBeenCalledTimes(1);
    await other.release();
    expect(pool.size).toBe(0);
  });

  it('a component is freed once every user is done with it, and not while the pool is kept', async () => {
    const model = await ensureTinyModel(0);
    const pool = new ModelPool();
    const a = await pool.acquire(model, DEFAULT_BACKEND);
    const b = await pool.acquire(model, DEFAULT_BACKEND);
    const freed = vi.spyOn(a.model.onnx, 'releaseComponent');
    await a.doneWith('text_encoder');
    expect(freed).not.toHaveBeenCalled();
    await b.doneWith('text_encoder');
    expect(freed).toHaveBeenCalledWith('text_encoder');
    // Freed, it opens again when called.
    const { ids } = a.model.tokenizer.encode('a cat');
    const embeds = await a.model.components.encodeText(makeTensor('int64', [1, ids.length], BigInt64Array.from(ids, BigInt)));
    expect(embeds.dims[0]).toBe(1);

    const unkeep = pool.keep();
    await a.doneWith('unet');
    await b.doneWith('unet');
    expect(freed).not.toHaveBeenCalledWith('unet');
    await a.release();
    await b.release();
    expect(pool.size).toBe(1);
    await unkeep();
    expect(pool.size).toBe(0);
  });

  it('a build first loaded for text-to-image opens its VAE encoder for an image-to-image user', async () => {
    const model = join(FAMILIES_REFERENCE, 'sd', 'model');
    const settings: PipelineSettings = { ...DEFAULT_SETTINGS, prompt: 'a cat', seed: 0, height: 64, width: 64 };
    const pool = new ModelPool();
    const text = await pool.acquire(model, DEFAULT_BACKEND, settings);
    expect(Object.keys(text.model.onnx.signatures())).not.toContain('vae_encoder');
    const image = await pool.acquire(model, DEFAULT_BACKEND, { ...settings, strength: 0.8, image: join(FAMILIES_REFERENCE, 'sd', 'input.png') });
    expect(image.model).toBe(text.model);
    expect(Object.keys(image.model.onnx.signatures())).toContain('vae_encoder');
    await text.release();
    await image.release();
  });

  it('the key is the real path and every backend setting', () => {
    expect(buildKey('/tmp/../tmp', DEFAULT_BACKEND)).toBe(buildKey('/tmp', { ...DEFAULT_BACKEND }));
    expect(buildKey('/tmp', DEFAULT_BACKEND)).not.toBe(buildKey('/tmp', { ...DEFAULT_BACKEND, intraOpThreads: 1 }));
  });
});
