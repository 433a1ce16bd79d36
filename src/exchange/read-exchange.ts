/** Reading an exchange back: the exported inputs and context (re-checked) and the runtime's answers. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { readNpy } from '../tensor/npy.ts';
import { type Tensor, sameDims, shapeString, toFloat32 } from '../tensor/tensor.ts';
import { containedFile } from '../util/safe-paths.ts';
import { ACCEPTED_OUTPUT_DTYPES, type ExchangeCall, type ExchangeFile, type ExchangeManifest, fitsShape, specShape } from './format.ts';

/**
 * Each expected output of one call, checked against the manifest. A VAE encoder may answer in the other
 * convention than the reference recorded (the manifest names that one): `latent_sample.npy` beside a
 * missing `latent_parameters.npy` (an export that samples inside its graph), or the reverse — read with
 * the channel count of its own kind, returned under its own name.
 */
export function readAnswers(call: ExchangeCall, outputsDir: string): Record<string, Tensor<'float32'>> {
  return Object.fromEntries(
    Object.entries(call.outputs).map(([name, spec]) => {
      const other = call.component === 'vae_encoder' ? otherConvention(name, spec, outputsDir) : undefined;
      return other ? [other.name, readAnswer(call, other.name, other.spec, outputsDir)] : [name, readAnswer(call, name, spec, outputsDir)];
    }),
  );
}

const VAE_CONVENTIONS: Record<string, { other: string; channels: (c: number) => number }> = {
  latent_parameters: { other: 'latent_sample', channels: (c) => c / 2 },
  latent_sample: { other: 'latent_parameters', channels: (c) => c * 2 },
};

/** The VAE encoder's answer in the other convention, when only that file is there. */
function otherConvention(name: string, spec: ExchangeFile, outputsDir: string): { name: string; spec: ExchangeFile } | undefined {
  const convention = VAE_CONVENTIONS[name];
  if (!convention || !spec.file.endsWith(`/${name}.npy`)) return undefined;
  const file = `${spec.file.slice(0, -`${name}.npy`.length)}${convention.other}.npy`;
  const present = (f: string) => existsSync(containedFile(outputsDir, f, `the exchange manifest (vae_encoder output)`, { optional: true }));
  if (present(spec.file) || !present(file)) return undefined;
  const shape = spec.shape.map((d, i) => (i === 1 && typeof d === 'number' ? convention.channels(d) : d));
  return { name: convention.other, spec: { ...spec, file, shape } };
}

/**
 * One exported input, re-read from the inputs folder: it must still be inside it and hold what the
 * manifest says, since it goes into the trace as the reference's own input.
 */
export function readInput(call: ExchangeCall, name: string, inputsDir: string): Tensor {
  const spec = call.inputs[name];
  if (!spec) throw new UsageError(`${join(inputsDir, 'manifest.json')}: ${call.role} has no input '${name}'`);
  return readExported(spec, inputsDir, `${call.role} input ${name}`);
}

/** A reference tensor export-inputs wrote for import-outputs (manifest `context`). */
export function readContext(m: ExchangeManifest, name: string, inputsDir: string): Tensor<'float32'> {
  const spec = m.context?.[name];
  if (!spec) throw new UsageError(`${join(inputsDir, 'manifest.json')}: no context '${name}', which these answers need (re-run lockstep export-inputs)`);
  return toFloat32(readExported(spec, inputsDir, `context ${name}`));
}

function readExported(spec: ExchangeFile, inputsDir: string, what: string): Tensor {
  const file = containedFile(inputsDir, spec.file, `${join(inputsDir, 'manifest.json')} (${what})`);
  const t = readNpy(file);
  if (t.dtype !== spec.dtype || !sameDims(t.dims, spec.shape)) {
    throw new UsageError(`${file}: holds ${t.dtype}${shapeString(t.dims)}; the manifest says ${spec.dtype}${shapeString(spec.shape)} (${what}); was it changed after export-inputs?`);
  }
  return t;
}

function readAnswer(call: ExchangeCall, name: string, spec: ExchangeFile, outputsDir: string): Tensor<'float32'> {
  const expected = `${call.component} ${name}, float32${specShape(spec.shape)}, answering ${call.role}`;
  const file = containedFile(outputsDir, spec.file, `the exchange manifest (${call.role} output ${name})`, { optional: true });
  if (!existsSync(file)) throw new UsageError(`${file}: missing; expected the ${expected}`);
  const t = readNpy(file);
  if (!(ACCEPTED_OUTPUT_DTYPES as readonly string[]).includes(t.dtype)) {
    throw new UsageError(`${file}: holds ${t.dtype}${shapeString(t.dims)}; expected the ${expected} (float16/float64 also accepted)`);
  }
  if (!fitsShape(t.dims, spec.shape)) throw new UsageError(`${file}: holds ${t.dtype}${shapeString(t.dims)}; expected the ${expected}`);
  return toFloat32(t);
}
