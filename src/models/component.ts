/**
 * One ONNX component (text encoder, U-Net, VAE decoder) in an ORT session.
 * Inputs are converted to the dtype the model declares, so a port that takes
 * `timestep` as float32 or `input_ids` as int64 is fed correctly, and what was
 * fed is visible to the caller.
 */
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { type DType, type Tensor, makeTensor, float32ToHalfBits, halfBitsToFloat32 } from '../tensor/tensor.ts';
import type { BackendOptions } from './backend.ts';
import { type OpenedSession, type RuntimeInfo, type RuntimeSession, openRuntimeSession } from './session.ts';
import { type ComponentSignature, type TensorSignature, formatSignature } from './signature.ts';

export type ComponentName = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_encoder' | 'vae_decoder';
/** Every export has these; the others only where the family or image-to-image needs them. */
export const REQUIRED_COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const;
export const OPTIONAL_COMPONENTS = ['text_encoder_2', 'vae_encoder'] as const;
const FLOAT_DTYPES = ['float32', 'float16', 'float64'];
export interface OrtClockReading {
  seconds: number;
  sessionSeconds: number;
  calls: number;
}

/** Accumulates time spent inside ORT: `run` calls, and creating and releasing sessions (the bench compares both with wall time). */
export class OrtClock implements OrtClockReading {
  /** Inside `session.run`. */
  seconds = 0;
  calls = 0;
  /** Inside `InferenceSession.create` (reading and optimizing the model) and `session.release` (freeing its weights). */
  sessionSeconds = 0;

  reading(): OrtClockReading {
    return { seconds: this.seconds, sessionSeconds: this.sessionSeconds, calls: this.calls };
  }
}

export class OnnxComponent {
  private constructor(
    readonly name: ComponentName,
    readonly file: string,
    readonly signature: ComponentSignature,
    /** Which ONNX Runtime build runs this component, and its version and settings. */
    readonly runtime: RuntimeInfo,
    /** null once released; the next run opens it again. */
    private session: RuntimeSession | null,
    private readonly backend: BackendOptions,
    private readonly clock: OrtClock,
  ) {}

  static async open(name: ComponentName, file: string, backend: BackendOptions, clock = new OrtClock()): Promise<OnnxComponent> {
    const opened = await openSession(name, file, backend, clock);
    return new OnnxComponent(name, file, opened.session.signature, opened.info, opened.session, backend, clock);
  }

  input(name: string): TensorSignature | undefined {
    return this.signature.inputs.find((s) => s.name === name);
  }

  /** Checks that the model has the inputs lockstep feeds, naming what it found instead. */
  requireInputs(names: readonly string[]): void {
    const missing = names.filter((n) => !this.input(n));
    if (missing.length === 0) return;
    const found = this.signature.inputs.map(formatSignature).join('; ');
    throw new UsageError(
      `${this.file}: the ${this.name} model has no input ${missing.map((m) => `'${m}'`).join(', ')} ` +
        `(expected ${names.join(', ')} as in the diffusers/optimum ONNX layout; the model declares ${found})`,
    );
  }

  /** Checks that these inputs are declared float: a cast of latents to an integer type would silently truncate them. */
  requireFloatInputs(names: readonly string[]): void {
    for (const n of names) {
      const dtype = this.input(n)?.dtype;
      if (dtype && !FLOAT_DTYPES.includes(dtype)) {
        throw new UsageError(`${this.file}: the ${this.name} input '${n}' is declared ${dtype}; expected a float type (float32, float16 or float64) as in the diffusers/optimum ONNX layout`);
      }
    }
  }

  /** Runs the model; feeds are cast to the declared dtypes. Returns outputs by name. */
  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const cast: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) cast[name] = castTo(t, this.declaredDtype(name));
    this.session ??= (await openSession(this.name, this.file, this.backend, this.clock)).session;
    const session = this.session;
    const start = performance.now();
    try {
      return await session.run(cast);
    } catch (err) {
      throw new UsageError(`${this.file}: ${this.name} failed to run: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    } finally {
      this.clock.seconds += (performance.now() - start) / 1000;
      this.clock.calls++;
    }
  }

  declaredDtype(input: string): DType {
    const sig = this.input(input);
    if (!sig) throw new UsageError(`${this.file}: the ${this.name} model has no input '${input}'`);
    if (!isSupported(sig.dtype)) {
      throw new UsageError(`${this.file}: ${this.name} input '${input}' has dtype ${sig.dtype}; lockstep feeds float32, float16, float64, int32 or int64`);
    }
    return sig.dtype;
  }

  /** Frees the session (its weights and buffers); a later `run` opens it again. Idempotent. */
  async release(): Promise<void> {
    if (!this.session) return;
    const session = this.session;
    this.session = null;
    const start = performance.now();
    await session.release();
    this.clock.sessionSeconds += (performance.now() - start) / 1000;
  }
}

async function openSession(name: ComponentName, file: string, backend: BackendOptions, clock: OrtClock): Promise<OpenedSession> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file}: ${name} model file not found`);
  const start = performance.now();
  try {
    return await openRuntimeSession({ kind: 'file', file }, backend, file);
  } catch (err) {
    throw err instanceof UsageError ? err : describeLoadError(file, name, err);
  } finally {
    clock.sessionSeconds += (performance.now() - start) / 1000;
  }
}

function describeLoadError(file: string, name: ComponentName, err: unknown): UsageError {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  if (/external data|ExternalData|\.onnx_data|Failed to open|No such file/i.test(msg)) {
    return new UsageError(`${file}: cannot load the ${name}: an external-data file it references is missing or unreadable (${msg})`, { cause: err });
  }
  return new UsageError(`${file}: not a loadable ONNX model for the ${name} (${msg})`, { cause: err });
}

function isSupported(d: string): d is DType {
  return ['float32', 'float16', 'float64', 'int32', 'int64', 'uint8'].includes(d);
}

/** Casts between numeric dtypes (values are exact for the timestep/id ranges SD uses). */
export function castTo(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  const values: ArrayLike<number> =
    t.dtype === 'int64' ? Float64Array.from(t.data as BigInt64Array, Number) : t.dtype === 'float16' ? halfBitsToFloat32(t.data as Uint16Array) : (t.data as ArrayLike<number>);
  switch (dtype) {
    case 'float32':
      return makeTensor(dtype, t.dims, Float32Array.from(values));
    case 'float64':
      return makeTensor(dtype, t.dims, Float64Array.from(values));
    case 'float16':
      return makeTensor(dtype, t.dims, float32ToHalfBits(Float32Array.from(values)));
    case 'int32':
      return makeTensor(dtype, t.dims, Int32Array.from(values, Math.trunc));
    case 'int64':
      return makeTensor(dtype, t.dims, BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v))));
    case 'uint8':
      return makeTensor(dtype, t.dims, Uint8Array.from(values));
  }
}
