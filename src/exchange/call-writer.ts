/** Writes exported calls (and the reference tensors import-outputs needs) into an export-inputs folder. */
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { writeNpy } from '../tensor/npy.ts';
import type { TraceReader } from '../trace/reader.ts';
import type { ExchangeCall, ExchangeFile } from './format.ts';

/** An answer the runtime must write: its shape (-1 where the runtime decides the size). */
export interface AnswerSpec {
  dims: number[];
}

export class CallWriter {
  readonly calls: ExchangeCall[] = [];
  readonly context: Record<string, ExchangeFile> = {};
  zeroNegative = false;
  constructor(private readonly root: string) {}

  add(call: Omit<ExchangeCall, 'inputs' | 'outputs'>, dir: string, inputs: Record<string, Tensor>, outputs: Record<string, AnswerSpec>): void {
    const files: ExchangeCall['inputs'] = {};
    for (const [name, t] of Object.entries(inputs)) files[name] = this.write(`${dir}/${name}.npy`, t);
    const answers: ExchangeCall['outputs'] = {};
    for (const [name, o] of Object.entries(outputs)) answers[name] = { file: `${dir}/${name}.npy`, dtype: 'float32', shape: o.dims };
    this.calls.push({ ...call, inputs: files, outputs: answers });
  }

  /** A reference tensor import-outputs reads back (written once). */
  addContext(name: string, file: string, t: Tensor): void {
    this.context[name] ??= this.write(file, t);
  }

  private write(file: string, t: Tensor): ExchangeFile {
    writeNpy(join(this.root, file), t);
    return { file, dtype: t.dtype, shape: [...t.dims] };
  }
}

export function need(reader: TraceReader, name: string, what: string): Tensor {
  const t = reader.get(name);
  if (!t) throw new UsageError(`${join(reader.dir, `${name}.npy`)}: missing; it is ${what}`);
  return t;
}

/** Float inputs go out as float32, as the pipeline feeds them. */
export function needFloat(reader: TraceReader, name: string, what: string): Tensor<'float32'> {
  const t = need(reader, name, what);
  if (t.dtype !== 'float32') throw new UsageError(`${join(reader.dir, `${name}.npy`)}: expected float32 (${what}), the trace holds ${t.dtype}`);
  return t as Tensor<'float32'>;
}
