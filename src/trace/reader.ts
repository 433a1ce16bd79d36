/**
 * Reads a recorded trace: refuses a missing manifest, an unknown major
 * version, a file whose dtype/shape disagrees with the manifest and a
 * truncated .npy, always naming the file. Absent tensors are `undefined`:
 * a producer may record less, and the caller reports what it couldn't compare.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { UsageError } from '../errors.ts';
import { type NpyHeader, readNpy, readNpyHeader } from '../tensor/npy.ts';
import { type Tensor, sameDims, shapeString } from '../tensor/tensor.ts';
import { readPythonJson } from '../util/json.ts';
import { requireRegular, strayEntries } from '../util/safe-paths.ts';
import { type TraceManifest, validateManifest } from './manifest.ts';
import { type StepTensor, stepName } from './names.ts';

/** Opens a trace folder, checking its manifest and every file's header up front (see TraceReader). */
export function readTrace(dir: string): TraceReader {
  return new TraceReader(dir);
}

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
    const stray = strayEntries(this.dir);
    if (stray.length > 0) throw new UsageError(`${stray[0]}: inside the trace ${dirArg}; a trace holds only regular files and folders, and no link out of it`);
    requireRegular(manifestFile);
    this.manifest = validateManifest(readPythonJson(manifestFile), manifestFile);
    this.stepCount = countSteps(this.dir);
    this.checkStepsComplete();
    for (const rel of npyFiles(this.dir)) this.checkHeader(rel);
  }

  has(name: string): boolean {
    return existsSync(join(this.dir, `${name}.npy`));
  }

  /** Header, size and manifest entry of one file, checked up front so a bad trace fails before a run writes anything. */
  private checkHeader(rel: string): void {
    const file = join(this.dir, rel);
    const fd = openSync(file, 'r');
    let header: NpyHeader;
    try {
      const size = fstatSync(fd).size;
      const prefix = Buffer.alloc(Math.min(size, NPY_MAX_HEADER));
      readSync(fd, prefix, 0, prefix.length, 0);
      header = readNpyHeader(prefix, file, size);
    } finally {
      closeSync(fd);
    }
    this.checkDeclared(rel, header.dtype, header.dims);
  }

  private checkDeclared(rel: string, dtype: string, dims: readonly number[]): void {
    const declared = this.manifest.files[rel];
    if (declared && (declared.dtype !== dtype || !sameDims(declared.shape, dims))) {
      throw new UsageError(
        `${join(this.dir, rel)}: manifest.json declares ${declared.dtype}${shapeString(declared.shape)}, the file holds ${dtype}${shapeString(dims)}`,
      );
    }
  }

  /** The tensor, validated against the manifest, or undefined if it was not recorded. */
  get(name: string): Tensor | undefined {
    const rel = `${name}.npy`;
    const file = join(this.dir, rel);
    if (!existsSync(file)) return undefined;
    const t = readNpy(file);
    this.checkDeclared(rel, t.dtype, t.dims);
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

  /**
   * Why this trace is not a whole run, or null when it is: the manifest says `"complete": false`
   * (an interrupted or failed producer), or step folders are missing. A reference like this is
   * refused unless the user asks for a partial comparison.
   */
  incompleteness(): string | null {
    const reasons: string[] = [];
    if (this.manifest.complete === false) {
      const error = typeof this.manifest.error === 'string' ? ` (${this.manifest.error.split('\n')[0]})` : '';
      reasons.push(`manifest.json says "complete": false${error}`);
    }
    const declared = this.manifest.timesteps?.length ?? this.manifest.pipeline.steps;
    if (declared !== undefined && this.stepCount < declared) reasons.push(`step folders for ${this.stepCount} of ${declared} steps`);
    const gap = stepFolders(this.dir).find((n) => n >= this.stepCount);
    if (gap !== undefined) reasons.push(`steps/${String(this.stepCount).padStart(3, '0')} is missing but steps/${String(gap).padStart(3, '0')} exists`);
    return reasons.length ? reasons.join('; ') : null;
  }

  /** The timesteps of the step folders actually present (all of them for a complete trace). */
  recordedTimesteps(): number[] {
    const all = this.timesteps();
    return this.manifest.complete === false ? all.slice(0, this.stepCount) : all;
  }

  /** A trace whose manifest says N steps must hold N step folders. */
  private checkStepsComplete(): void {
    // Timesteps count U-Net calls (PNDM makes steps + 1); fall back to the requested step count.
    const declared = this.manifest.timesteps?.length ?? this.manifest.pipeline.steps;
    if (declared !== undefined && this.stepCount < declared && this.manifest.complete !== false) {
      throw new UsageError(
        `${this.dir}: trace declares ${declared} steps but has step folders for only ${this.stepCount} (steps/${String(this.stepCount).padStart(3, '0')} is missing)`,
      );
    }
  }
}

/** Magic, version, length field and the largest header a version 1 length field allows. */
const NPY_MAX_HEADER = 12 + 0xffff;

/** Every .npy file under `dir`, as paths relative to it with forward slashes (the manifest's keys). */
function npyFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => p.split(sep).join('/'))
    .filter((p) => p.endsWith('.npy'));
}

/** Indices of the step folders present (names of three or more digits). */
function stepFolders(dir: string): number[] {
  const stepsDir = join(dir, 'steps');
  if (!existsSync(stepsDir)) return [];
  return readdirSync(stepsDir).filter((n) => /^\d{3,}$/.test(n)).map(Number);
}

function countSteps(dir: string): number {
  const stepsDir = join(dir, 'steps');
  if (!existsSync(stepsDir)) return 0;
  const names = new Set(readdirSync(stepsDir));
  let n = 0;
  while (names.has(String(n).padStart(3, '0'))) n++;
  return n;
}
