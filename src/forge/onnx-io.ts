/**
 * Reading and writing ONNX models, with external data.
 *
 * A model over 2 GB cannot be one protobuf, so its tensors live in a side file
 * beside `model.onnx` and each TensorProto says where (`externalData`:
 * location/offset/length, `dataLocation: EXTERNAL`). `loadModel` pulls such data
 * back inline so every caller sees one shape of model; `saveModel` can write it
 * out again, streaming tensor by tensor so weights are never held twice.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync, fstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { UsageError } from '../errors.ts';
import { containedFile, containedOutput } from '../util/safe-paths.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { encodeModel, toNumber, type ModelProto, type TensorProto } from './graph.ts';

const { onnx } = onnxProto;
const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;
let tmpCounter = 0;

export interface SaveOptions {
  /** Move tensors into a side file beside the model (default false: everything inline). */
  externalData?: boolean;
  /** Side file name, relative to the model's folder (default: `<model file>_data`, as optimum names it). */
  location?: string;
  /** Tensors smaller than this many bytes stay inline (default 1024, as onnx's own saver). */
  sizeThreshold?: number;
}

/** Reads a model; tensors stored as external data are read into `rawData`. */
export function loadModel(path: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (err) {
    throw new UsageError(`${path}: not a readable ONNX model (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const files = new Map<string, number>();
  try {
    for (const t of allTensors(model)) {
      if (t.dataLocation === EXTERNAL) inlineExternal(t, dirname(path), files);
    }
  } finally {
    for (const fd of files.values()) closeSync(fd);
  }
  return model;
}

/** Writes a model atomically (model file and side file each via a temporary sibling). */
export function saveModel(model: ModelProto, path: string, options: SaveOptions = {}): void {
  if (!options.externalData) {
    writeFileAtomic(path, encodeModel(withInlineTensors(model)));
    return;
  }
  const side = containedOutput(dirname(path), options.location ?? `${basename(path)}_data`, `the external-data location for ${path}`);
  const writer = new ExternalDataWriter(side, options.location, options.sizeThreshold);
  let stub: ModelProto;
  try {
    stub = withGraph(model, (model.graph?.initializer ?? []).map((t) => writer.put(t)), model.graph?.node ?? []);
    writer.commit();
  } catch (err) {
    writer.abort();
    throw err;
  }
  writeFileAtomic(path, encodeModel(stub));
}

/**
 * Writes tensors' bytes to an external-data file as they come (page-aligned,
 * in order) and hands back the TensorProto that points there, so a caller that
 * generates weights one by one never holds them all. The file appears under
 * its name only on `commit`.
 */
export class ExternalDataWriter {
  private readonly tmpPath: string;
  private readonly fd: number;
  private offset = 0;

  /** `location`: the name stored in the tensors, relative to the model's folder (default: the file's base name). */
  constructor(
    private readonly dataPath: string,
    private readonly location = basename(dataPath),
    private readonly threshold = 1024,
  ) {
    mkdirSync(dirname(dataPath), { recursive: true });
    this.tmpPath = `${dataPath}.tmp-${process.pid}-${tmpCounter++}`;
    this.fd = openSync(this.tmpPath, 'w');
  }

  /** Writes a large tensor's bytes out and returns its external stub; small tensors come back unchanged (inline). */
  put(t: TensorProto): TensorProto {
    const raw = rawBytes(t);
    if (!raw || raw.byteLength < this.threshold) return t;
    const pad = (4096 - (this.offset % 4096)) % 4096; // page-aligned, so a runtime may map tensors in place
    if (pad) writeAll(this.fd, new Uint8Array(pad));
    this.offset += pad;
    writeAll(this.fd, raw);
    const entry = {
      ...t,
      rawData: undefined,
      floatData: [],
      int64Data: [],
      int32Data: [],
      dataLocation: EXTERNAL,
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(this.offset) },
        { key: 'length', value: String(raw.byteLength) },
      ],
    };
    this.offset += raw.byteLength;
    return entry;
  }

  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmpPath, this.dataPath);
  }

  abort(): void {
    closeSync(this.fd);
    rmSync(this.tmpPath, { force: true });
  }
}

/** Every TensorProto in the graph: initializers and Constant node values (subgraphs are not used here). */
function allTensors(model: onnxProto.onnx.IModelProto): TensorProto[] {
  const graph = model.graph;
  if (!graph) return [];
  const fromNodes = (graph.node ?? []).flatMap((n) => (n.attribute ?? []).map((a) => a.t).filter((t): t is TensorProto => t != null));
  return [...(graph.initializer ?? []), ...fromNodes];
}

function externalField(t: TensorProto, key: string): string | undefined {
  return t.externalData?.find((e) => e.key === key)?.value ?? undefined;
}

function inlineExternal(t: TensorProto, dir: string, files: Map<string, number>): void {
  const location = externalField(t, 'location');
  if (!location) throw new UsageError(`tensor ${t.name}: external data without a location`);
  const file = containedFile(dir, location, `the external-data location of tensor ${t.name} in ${dir}`);
  let fd = files.get(file);
  if (fd === undefined) {
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new UsageError(`${file}: external data file of tensor ${t.name} cannot be opened`, { cause: err });
    }
    files.set(file, fd);
  }
  const offset = Number(externalField(t, 'offset') ?? 0);
  const length = Number(externalField(t, 'length') ?? fstatSync(fd).size - offset);
  const bytes = new Uint8Array(length);
  const got = readSync(fd, bytes, 0, length, offset);
  if (got !== length) throw new UsageError(`${file}: tensor ${t.name} needs bytes ${offset}..${offset + length} but the file is shorter`);
  t.rawData = bytes;
  t.externalData = [];
  // Unset rather than DEFAULT, so an inlined model encodes exactly like one saved inline.
  delete (t as { dataLocation?: unknown }).dataLocation;
}

/** A shallow copy of the model whose graph lists `tensors` instead of its own initializers. */
function withGraph(model: ModelProto, initializer: TensorProto[], node: onnxProto.onnx.INodeProto[]): ModelProto {
  return onnx.ModelProto.create({ ...model, graph: { ...model.graph, initializer, node } });
}

function withInlineTensors(model: ModelProto): ModelProto {
  for (const t of allTensors(model)) {
    if (t.dataLocation === EXTERNAL) throw new Error(`tensor ${t.name} still refers to external data; load the model with loadModel first`);
  }
  return model;
}

/** The tensor's bytes when stored as `rawData` (the forge and torch both store that way). */
function rawBytes(t: TensorProto): Uint8Array | undefined {
  if (t.dataLocation === EXTERNAL) throw new Error(`tensor ${t.name} still refers to external data; load the model with loadModel first`);
  if (t.rawData && t.rawData.byteLength > 0) return t.rawData;
  if (t.floatData && t.floatData.length > 0) {
    const f = Float32Array.from(t.floatData);
    return new Uint8Array(f.buffer);
  }
  return undefined;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}

export { toNumber };
