/**
 * Reads a recorded trace: refuses a missing manifest, an unknown major
 * version, a file whose dtype/shape disagrees with the manifest and a
 * truncated .npy, always naming the file. Absent tensors are `undefined`:
 * a producer may record less, and the caller reports what it couldn't compare.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { readNpy } from '../tensor/npy.ts';
import { type Tensor, sameDims, shapeString } from '../tensor/tensor.ts';
import { readPythonJson } from '../util/json.ts';
import { type TraceManifest, validateManifest } from './manifest.ts';
import { type StepTensor, stepName } from './names.ts';

export class TraceReader {
  readonly dir: string;
  readonly manifest: TraceManifest;
  /** Number of consecutive step folders 000, 001, … present. */
  readonly stepCount: number;

  constructor(dirArg: string) {
    this.dir = resolve(dirArg);
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) throw new UsageError(`${dirArg}: trace folder not found`);
    const manifestFile = join(this.dir, 'manifest.json');
    if (!existsSync(manifestFile)) throw new UsageError(`${dirArg}: not a trace folder: manifest.json is missing (see TRACE_FORMAT.md)`);
    this.manifest = validateManifest(readPythonJson(manifestFile), manifestFile);
    this.stepCount = countSteps(this.dir);
    this.checkStepsComplete();
  }

  has(name: string): boolean {
    return existsSync(join(this.dir, `${name}.npy`));
  }

  /** The tensor, validated against the manifest, or undefined if it was not recorded. */
  get(name: string): Tensor | undefined {
    const rel = `${name}.npy`;
    const file = join(this.dir, rel);
    if (!existsSync(file)) return undefined;
    const t = readNpy(file);
    const declared = this.manifest.files[rel];
    if (declared && (declared.dtype !== t.dtype || !sameDims(declared.shape, t.dims))) {
      throw new UsageError(
        `${file}: manifest.json declares ${declared.dtype}${shapeString(declared.shape)}, the file holds ${t.dtype}${shapeString(t.dims)}`,
      );
    }
    return t;
  }

  require(name: string): Tensor {
    const t = this.get(name);
    if (!t) throw new UsageError(`${this.dir}: trace has no ${name}.npy, which this comparison needs`);
    return t;
  }

  step(index: number, tensor: StepTensor): Tensor | undefined {
    return this.get(stepName(index, tensor));
  }

  /** The timesteps, from the manifest or else from the recorded per-step timestep files. */
  timesteps(): number[] {
    if (this.manifest.timesteps) return this.manifest.timesteps;
    return Array.from({ length: this.stepCount }, (_, i) => {
      const t = this.step(i, 'timestep');
      return t ? Number(t.data[0]) : NaN;
    });
  }

  /** A trace whose manifest says N steps must hold N step folders. */
  private checkStepsComplete(): void {
    const declared = this.manifest.pipeline.steps ?? this.manifest.timesteps?.length;
    if (declared !== undefined && this.stepCount < declared && this.manifest.complete !== false) {
      throw new UsageError(
        `${this.dir}: trace declares ${declared} steps but has step folders for only ${this.stepCount} (steps/${String(this.stepCount).padStart(3, '0')} is missing)`,
      );
    }
  }
}

function countSteps(dir: string): number {
  const stepsDir = join(dir, 'steps');
  if (!existsSync(stepsDir)) return 0;
  const names = new Set(readdirSync(stepsDir));
  let n = 0;
  while (names.has(String(n).padStart(3, '0'))) n++;
  return n;
}
