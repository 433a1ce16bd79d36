/** onnxruntime-node, in this process: the CPU provider of the npm package (or a build with more providers). */
import * as ort from 'onnxruntime-node';
import { UsageError } from '../../errors.ts';
import { type DType, type Tensor, makeTensor } from '../../tensor/tensor.ts';
import { ORT_VERSION } from '../../version.ts';
import { type BackendOptions, explainProviderError, sessionOptions } from '../backend.ts';
import type { ModelSource, OpenedSession, RuntimeSession } from '../session.ts';
import { signatureOf } from '../signature.ts';

// ORT's own log (e.g. a provider library that fails to load) goes straight to fd 2, unnamed and colored;
// its errors reach lockstep as exceptions and are reported naming the file, so keep only fatal ones.
ort.env.logLevel = 'fatal';

export async function openNodeSession(source: ModelSource, backend: BackendOptions, label: string, extra: ort.InferenceSession.SessionOptions = {}): Promise<OpenedSession> {
  const options = { ...sessionOptions(backend), ...extra };
  let session: ort.InferenceSession;
  try {
    session = source.kind === 'file' ? await ort.InferenceSession.create(source.file, options) : await ort.InferenceSession.create(source.bytes, options);
  } catch (err) {
    throw explainProviderError(err, backend, label) ?? err;
  }
  return { session: new NodeSession(session), info: { runtime: 'onnxruntime-node', version: ORT_VERSION } };
}

/** The onnxruntime-node session itself, for callers that need more than run (localize's profiler). */
export class NodeSession implements RuntimeSession {
  readonly signature;

  constructor(readonly ort: ort.InferenceSession) {
    this.signature = signatureOf(ort);
  }

  async run(feeds: Record<string, Tensor>, fetch?: readonly string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data as never, [...t.dims]);
    const results = fetch ? await this.ort.run(ortFeeds, [...fetch]) : await this.ort.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(results)) {
      const v = value as ort.Tensor;
      if (isTensorDtype(v.type)) out[name] = makeTensor(v.type, [...v.dims], v.data as never);
      else if (!fetch) throw new UsageError(`${name}: output dtype ${v.type} is not supported`);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.ort.release();
  }
}

export function isTensorDtype(t: string): t is DType {
  return ['float32', 'float16', 'float64', 'int32', 'int64', 'uint8'].includes(t);
}
