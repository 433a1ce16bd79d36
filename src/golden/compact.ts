/**
 * Copies what gates need out of a full trace into a golden, as float32 or
 * float16. float16 storage states its rounding error in the manifest, so a
 * reader knows how much of a later difference the storage itself explains.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.ts';
import { readNpy, writeNpy } from '../tensor/npy.ts';
import { type Tensor, float32ToHalfBits, halfBitsToFloat32 } from '../tensor/tensor.ts';
import { COND, FINAL, IMAGE, STEP_TENSORS, TEXT, stepName } from '../trace/names.ts';

export type Storage = 'float32' | 'float16';

export interface StorageError {
  /** Largest |stored − recorded| over all converted tensors. */
  maxAbs: number;
  /** Largest per-tensor maxAbs / max|recorded|. */
  maxRel: number;
}

export interface CompactResult {
  files: Record<string, { dtype: string; shape: number[] }>;
  storageError: StorageError | null;
}

/**
 * Tensor names (without .npy) a golden keeps: what teacher-forcing feeds (ids, embeddings, the
 * extra U-Net inputs), what the component checks compare (SDXL's second ids; image-to-image's
 * preprocessed image and VAE encoder output) and every gated tensor; initial/scaled latents are not gated.
 */
function keptNames(stepCount: number): string[] {
  const names: string[] = [
    ...Object.values(TEXT),
    ...Object.values(COND),
    IMAGE.input,
    IMAGE.latentParameters,
    IMAGE.latentSample,
    FINAL.latents,
    FINAL.decoded,
  ];
  for (let i = 0; i < stepCount; i++) for (const t of STEP_TENSORS) names.push(stepName(i, t));
  return names;
}

export function compactTrace(from: string, to: string, stepCount: number, storage: Storage): CompactResult {
  const files: CompactResult['files'] = {};
  const err: StorageError = { maxAbs: 0, maxRel: 0 };
  for (const name of keptNames(stepCount)) {
    const src = join(from, `${name}.npy`);
    if (!existsSync(src)) continue;
    let t = readNpy(src);
    // Timesteps stay exact: they select the scheduler's coefficients.
    if (storage === 'float16' && t.dtype === 'float32' && !name.endsWith('/timestep')) t = toHalf(t as Tensor<'float32'>, name, err);
    writeNpy(join(to, `${name}.npy`), t);
    files[`${name}.npy`] = { dtype: t.dtype, shape: [...t.dims] };
  }
  // The final image, and an image-to-image run's input image (the manifest's pipeline.image names it).
  for (const file of [FINAL.image, IMAGE.inputPng]) {
    if (!existsSync(join(from, file))) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(from, file), join(to, file));
  }
  return { files, storageError: storage === 'float16' ? err : null };
}

function toHalf(t: Tensor<'float32'>, name: string, err: StorageError): Tensor<'float16'> {
  const bits = float32ToHalfBits(t.data);
  const back = halfBitsToFloat32(bits);
  let maxAbs = 0;
  let peak = 0;
  for (let i = 0; i < back.length; i++) {
    if (!Number.isFinite(back[i]) && Number.isFinite(t.data[i])) {
      throw new UsageError(`${name}.npy: value ${t.data[i]} is outside the float16 range; record this golden with --storage float32`);
    }
    maxAbs = Math.max(maxAbs, Math.abs(back[i] - t.data[i]));
    peak = Math.max(peak, Math.abs(t.data[i]));
  }
  err.maxAbs = Math.max(err.maxAbs, maxAbs);
  err.maxRel = Math.max(err.maxRel, peak > 0 ? maxAbs / peak : 0);
  return { dtype: 'float16', dims: t.dims, data: bits };
}
