/**
 * Forges a whole Stable Diffusion 1.x pipeline folder from a seed, in the layout
 * optimum exports (and /work/shared/reference/tiny-sd uses):
 *
 *   model_index.json  scheduler/  tokenizer/  text_encoder/  unet/  vae_decoder/  [vae_encoder/]  forge.json
 *
 * The bytes depend only on (config, seed, FORGE_VERSION): no timestamps, fixed
 * key order. `forge.json` records the provenance and every file's sha256.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/fs.ts';
import { UsageError } from '../errors.ts';
import { conventionsOf, PRESETS, TINY, type PipelineConfig } from './config.ts';
import { jsonText, modelIndexJson, textEncoderJson, unetJson, vaeJson } from './configs-json.ts';
import { encodeModel, type ModelProto, withWeightSink } from './graph.ts';
import { ExternalDataWriter, saveModel } from './onnx-io.ts';
import { buildTextEncoder } from './text-encoder.ts';
import { buildUNet } from './unet.ts';
import { buildVaeDecoder } from './vae-decoder.ts';
import { buildVaeEncoder } from './vae-encoder.ts';
import { FORGE_VERSION } from './version.ts';

/** Assets committed with the repository (CLIP vocabulary, one scheduler config per family). */
export const ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../assets');

export interface ForgeOptions {
  outDir: string;
  seed: number;
}

export interface ForgeResult {
  outDir: string;
  /** Relative path → sha256 of every file written, forge.json excluded. */
  files: Record<string, string>;
}

export interface TinyForgeOptions extends ForgeOptions {
  /** A name in PRESETS (`tiny`, `sd`, `sd2`, …); default `tiny`, the reference tiny-sd's shapes. */
  preset?: string;
}

/** A tiny pipeline of a family with seeded weights: `lockstep forge tiny [--preset P]`. */
export function forgeTiny(options: TinyForgeOptions): ForgeResult {
  const { preset = TINY.preset, ...rest } = options;
  return forgePipeline({ ...rest, config: presetConfig(preset, 'preset') });
}

/** The config of a preset by name; `where` names the flag or option in the error. */
export function presetConfig(name: string, where: string): PipelineConfig {
  const config = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!config) throw new UsageError(`${where}: expected one of ${Object.keys(PRESETS).join(', ')}, got "${name}"`);
  return config;
}

/** Any preset: the same builders, different hyper-parameters. */
export function forgePipeline(options: ForgeOptions & { config: PipelineConfig }): ForgeResult {
  const { outDir, seed, config } = options;
  checkSeed(seed);
  mkdirSync(outDir, { recursive: true });
  const put = (rel: string, text: string | Uint8Array) => writeFileAtomic(join(outDir, rel), text);

  const conventions = conventionsOf(config);
  const scheduler = readFileSync(join(ASSETS_DIR, conventions.schedulerAsset, 'scheduler_config.json'));
  put('model_index.json', jsonText(modelIndexJson(conventions, JSON.parse(scheduler.toString('utf8'))._class_name, config.textEncoder2 !== undefined)));
  put('scheduler/scheduler_config.json', scheduler);
  writeTokenizer(put, 'tokenizer', conventions.padToken);
  if (config.textEncoder2) writeTokenizer(put, 'tokenizer_2', OPENCLIP_PAD);
  // One component at a time, so only one component's weights are alive at once.
  const component = (folder: string, configJson: unknown, build: () => ModelProto) => {
    put(`${folder}/config.json`, jsonText(configJson));
    const path = join(outDir, folder, 'model.onnx');
    const model = config.externalData ? buildStreamed(path, build) : build();
    model.producerVersion = String(FORGE_VERSION);
    if (config.externalData) put(`${folder}/model.onnx`, encodeModel(model));
    else saveModel(model, path);
  };
  component('text_encoder', textEncoderJson(config.textEncoder), () => buildTextEncoder(config.textEncoder, seed));
  const textEncoder2 = config.textEncoder2;
  if (textEncoder2) component('text_encoder_2', textEncoderJson(textEncoder2), () => buildTextEncoder(textEncoder2, seed, 'text_encoder_2'));
  component('unet', unetJson(config.unet), () => buildUNet(config.unet, seed));
  component('vae_decoder', vaeJson(config.vae), () => buildVaeDecoder(config.vae, seed));
  // diffusers saves one AutoencoderKL config; optimum copies it into both VAE folders.
  if (config.vaeEncoder) component('vae_encoder', vaeJson(config.vae), () => buildVaeEncoder(config.vae, seed));

  const files = hashTree(outDir);
  put('forge.json', jsonText({ forge_version: FORGE_VERSION, preset: config.preset, seed, config, files }));
  return { outDir, files };
}

type Put = (rel: string, text: string | Uint8Array) => void;

/** SDXL's tokenizer_2 (OpenCLIP bigG's) pads with "!". */
const OPENCLIP_PAD = '!';

/**
 * The CLIP BPE files. With CLIP's own pad token they are the committed files as they are; another pad token
 * (OpenCLIP's "!") is stated in tokenizer_config.json and special_tokens_map.json, as transformers saves it.
 */
function writeTokenizer(put: Put, folder: string, padToken: string): void {
  const source = join(ASSETS_DIR, 'clip-vocab');
  for (const name of readdirSync(source).sort()) {
    const bytes = readFileSync(join(source, name));
    const restated = name === 'tokenizer_config.json' || name === 'special_tokens_map.json';
    const json = restated ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : null;
    put(`${folder}/${name}`, json && json.pad_token !== padToken ? jsonText({ ...json, pad_token: padToken }) : bytes);
  }
}

/**
 * Builds with each weight written to `<path>_data` as soon as it is generated
 * (the bytes `saveModel` with external data would write), so peak memory is
 * about one tensor, not the component.
 */
function buildStreamed(path: string, build: () => ModelProto): ModelProto {
  const writer = new ExternalDataWriter(`${path}_data`);
  try {
    const model = withWeightSink((t) => writer.put(t), build);
    writer.commit();
    return model;
  } catch (err) {
    writer.abort();
    throw err;
  }
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`forge seed must be a non-negative integer, got ${seed}`);
  }
}

/** sha256 of every file under `dir` except forge.json, keyed by POSIX relative path, sorted. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const entries = readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (path !== 'forge.json') out[path] = sha256File(join(dir, path));
    }
  };
  walk('');
  return out;
}

/** Streams the file, so multi-GB external-data files hash in constant memory. */
function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
