/**
 * What one live text-to-image run needs in memory, estimated before any model
 * is loaded, so a request that cannot fit (`--height 65536 --width 65536`) is
 * refused with the numbers instead of growing until the machine swaps or the
 * process is killed. The formula is in docs/memory-estimate.md; it is meant to
 * be conservative (it counts float32 activations and the largest attention
 * score matrix an unfused ONNX export materializes) but not absurd (ORT reuses
 * buffers, so only the peak of one component call is counted, not a sum).
 *
 * API: `readModelFootprint(dir)` (file sizes and configs, no ORT session),
 * `estimateRunMemory(footprint, settings)` (bytes per part and a total),
 * `availableMemory()` (free memory, or the cgroup's room if smaller) and
 * `checkFits(estimate, available)` (throws a one-line UsageError).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';
import { type ComponentName, OPTIONAL_COMPONENTS, type REQUIRED_COMPONENTS } from './component.ts';
import { readModelLayout } from './layout.ts';

/** Every component an export may hold: the three all have, and SDXL's text_encoder_2 and the VAE encoder where present. */
export type EstimatedComponent = ComponentName;
type Required = (typeof REQUIRED_COMPONENTS)[number];
/** Per component; the optional ones only where the folder has them. */
export type PerComponent = Record<Required, number> & Partial<Record<(typeof OPTIONAL_COMPONENTS)[number], number>>;

const REQUIRED: Required[] = ['text_encoder', 'unet', 'vae_decoder'];

/** What the estimate needs to know about a model folder: bytes on disk and the configs' widths. */
export interface ModelFootprint {
  dir: string;
  /** model.onnx plus its external-data files (what ORT reads into memory), per component. */
  weightBytes: PerComponent;
  /** 2^(len(vae block_out_channels) - 1). */
  vaeScaleFactor: number;
  latentChannels: number;
  /** `heads`: one count for every level, or one per level (diffusers' per-block lists; the mid block takes the last). */
  unet: { blockOutChannels: number[]; attentionLevels: boolean[]; heads: number | number[]; layersPerBlock: number };
  vae: { blockOutChannels: number[] };
  textEncoder: TextEncoderShape;
  /** SDXL's second text encoder, when the folder has one. */
  textEncoder2?: TextEncoderShape;
  /** Bytes per activation element: 4 (float32) unless the caller knows the model runs in another dtype. */
  elementBytes: number;
}

export interface TextEncoderShape {
  positions: number;
  hidden: number;
  heads: number;
}

/** The run settings the estimate depends on. */
export interface MemorySettings {
  height: number;
  width: number;
  guidanceScale: number;
  /** Images per prompt (lockstep runs 1). */
  batch?: number;
}

export interface MemoryEstimate {
  /** Every component's weights count, also those a run frees before the U-Net: conservative. */
  weights: PerComponent & { total: number };
  /** Peak intermediate tensors of one call of each component (ORT runs one component at a time). */
  activations: PerComponent & { peak: number };
  /** Latents and every latent-sized tensor a step keeps (scheduler history included). */
  latents: number;
  /** The VAE output as float32, its 8-bit RGB copy and the PNG encoder's buffer. */
  decodedImage: number;
  /** weights.total + activations.peak + latents + decodedImage. */
  total: number;
  /** The settings it was made for, for the message. */
  settings: MemorySettings;
}

/** Reads file sizes and component configs; missing configs fall back to SD 1.x's values. */
export function readModelFootprint(dir: string): ModelFootprint {
  const layout = readModelLayout(dir);
  const weightBytes = {} as PerComponent;
  for (const c of REQUIRED) weightBytes[c] = componentWeightBytes(layout.onnx[c]);
  for (const c of OPTIONAL_COMPONENTS) {
    const file = layout.onnx[c];
    if (file) weightBytes[c] = componentWeightBytes(file);
  }
  const unet = readConfig(join(layout.dir, 'unet', 'config.json'));
  const vae = readConfig(join(layout.dir, 'vae_decoder', 'config.json'));
  const text = readConfig(join(layout.dir, 'text_encoder', 'config.json'));
  const unetBlocks = numbers(unet.block_out_channels, [320, 640, 1280, 1280]);
  const downTypes = Array.isArray(unet.down_block_types) ? unet.down_block_types.map(String) : ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'];
  // diffusers: num_attention_heads defaults to attention_head_dim (a historical misnomer: it is the head count),
  // a number or one per block (SD 2.x [5, 10, 20, 20], SDXL [5, 10, 20]).
  const heads = headCounts(unet.num_attention_heads) ?? headCounts(unet.attention_head_dim) ?? 8;
  return {
    dir: layout.dir,
    weightBytes,
    vaeScaleFactor: layout.vaeScaleFactor,
    latentChannels: layout.latentChannels,
    unet: {
      blockOutChannels: unetBlocks,
      attentionLevels: unetBlocks.map((_, i) => /Attn/i.test(downTypes[i] ?? '')),
      heads,
      layersPerBlock: firstNumber(unet.layers_per_block) ?? 2,
    },
    vae: { blockOutChannels: numbers(vae.block_out_channels, [128, 256, 512, 512]) },
    textEncoder: textEncoderShape(text),
    ...(layout.onnx.text_encoder_2 && { textEncoder2: textEncoderShape(readConfig(join(layout.dir, 'text_encoder_2', 'config.json'))) }),
    elementBytes: 4,
  };
}

/** The estimate for one live build running one text-to-image request. */
export function estimateRunMemory(fp: ModelFootprint, settings: MemorySettings): MemoryEstimate {
  const batch = settings.batch ?? 1;
  const unetBatch = batch * (settings.guidanceScale > 1 ? 2 : 1);
  const h = Math.ceil(settings.height / fp.vaeScaleFactor);
  const w = Math.ceil(settings.width / fp.vaeScaleFactor);
  const e = fp.elementBytes;
  const weights = { ...fp.weightBytes, total: sum(Object.values(fp.weightBytes)) };
  const perCall: PerComponent = {
    text_encoder: textEncoderActivations(fp.textEncoder, e),
    unet: unetActivations(fp, unetBatch, h, w, e),
    vae_decoder: vaeActivations(fp, batch, h, w, e),
    ...(fp.textEncoder2 && { text_encoder_2: textEncoderActivations(fp.textEncoder2, e) }),
    // The encoder mirrors the decoder: its widest maps at full resolution, the same mid-block attention.
    ...(fp.weightBytes.vae_encoder !== undefined && { vae_encoder: vaeActivations(fp, batch, h, w, e) }),
  };
  const activations = { ...perCall, peak: Math.max(...Object.values(perCall)) };
  const latentBytes = batch * fp.latentChannels * h * w * 4;
  // latents, the doubled batch, latent_model_input, uncond/text/guided predictions, new latents, and up to
  // 5 of scheduler history (PNDM keeps 4 ets + cur_sample): 16 latent-sized float32 tensors, guidance doubling some.
  const latents = latentBytes * 16 * (unetBatch / batch);
  const pixels = batch * settings.height * settings.width;
  const decodedImage = pixels * 3 * (4 + 4 + 1 + 1);
  const total = weights.total + activations.peak + latents + decodedImage;
  return { weights, activations, latents, decodedImage, total, settings };
}

/**
 * Memory this process may still use: the kernel's available memory (os.freemem reads MemAvailable),
 * or the room left under a cgroup memory limit when that is smaller.
 */
export function availableMemory(): number {
  const room = cgroupRoom();
  return room === null ? freemem() : Math.min(freemem(), room);
}

/** Refuses an estimate that does not fit in `available` bytes, with one line naming the numbers. */
export function checkFits(estimate: MemoryEstimate, available = availableMemory(), what = 'this run'): void {
  if (estimate.total <= available) return;
  const s = estimate.settings;
  const a = estimate.activations;
  const largest = Object.entries(a).filter(([k]) => k !== 'peak').sort(([, x], [, y]) => (y ?? 0) - (x ?? 0))[0][0];
  throw new UsageError(
    `--height ${s.height} --width ${s.width}: ${what} needs an estimated ${formatBytes(estimate.total)} ` +
      `(weights ${formatBytes(estimate.weights.total)}, ${largest} activations ${formatBytes(a.peak)}, ` +
      `latents ${formatBytes(estimate.latents)}, decoded image ${formatBytes(estimate.decodedImage)}) ` +
      `but ${formatBytes(available)} is available; use a smaller --height/--width (see docs/memory-estimate.md)`,
  );
}

/** Bytes in binary units, 3 significant digits ("1.50 GiB"). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (v >= 1024) return `${n.toExponential(2)} B`;
  return u === 0 ? `${v} B` : `${v.toPrecision(3)} ${units[u]}`;
}

/**
 * U-Net: per resolution level i (tokens = h·w / 4^i), the skip connections the down path keeps for
 * the up path ((layers_per_block + 1) per level), plus 4 live feature maps of the widest level
 * (a ResNet block's input, norm, conv output and residual), plus the largest self-attention score
 * matrix batch × heads × tokens² twice (scores and softmax), at every level that has attention and
 * the mid block (the lowest level).
 */
function unetActivations(fp: ModelFootprint, batch: number, h: number, w: number, e: number): number {
  const { blockOutChannels: ch, attentionLevels, heads, layersPerBlock } = fp.unet;
  const headsAt = (i: number) => (Array.isArray(heads) ? (heads[i] ?? heads[heads.length - 1]) : heads);
  const tokensAt = (i: number) => Math.ceil(h / 2 ** i) * Math.ceil(w / 2 ** i);
  let skips = 0;
  let widest = 0;
  let attention = 0;
  ch.forEach((c, i) => {
    const map = batch * c * tokensAt(i) * e;
    skips += (layersPerBlock + 1) * map;
    widest = Math.max(widest, map);
    if (attentionLevels[i] || i === ch.length - 1) attention = Math.max(attention, 2 * batch * headsAt(i) * tokensAt(i) ** 2 * e);
  });
  return skips + 4 * widest + attention;
}

/**
 * VAE decoder: 4 live feature maps of its widest level (block_out_channels reversed, the image
 * resolution last: block_out_channels[0] channels at height × width), plus the mid block's
 * single-head attention at latent resolution (scores and softmax).
 */
function vaeActivations(fp: ModelFootprint, batch: number, h: number, w: number, e: number): number {
  const ch = fp.vae.blockOutChannels;
  let widest = 0;
  ch.forEach((c, i) => {
    const scale = 2 ** (ch.length - 1 - i);
    widest = Math.max(widest, batch * c * h * scale * w * scale * e);
  });
  return 4 * widest + 2 * batch * (h * w) ** 2 * e;
}

/** Text encoder (one prompt per call): 8 hidden-state-sized tensors plus the attention scores. */
function textEncoderActivations({ positions, hidden, heads }: TextEncoderShape, e: number): number {
  return 8 * positions * hidden * e + 2 * heads * positions ** 2 * e;
}

/** model.onnx and every other file in its folder but configs and docs: external data may have any name. */
function componentWeightBytes(onnxFile: string): number {
  const dir = join(onnxFile, '..');
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (/\.(json|txt|md)$/i.test(entry.name)) continue;
    const p = join(dir, entry.name);
    try {
      const st = statSync(p);
      if (st.isFile()) total += st.size;
    } catch {
      // A dangling link: ORT will name it when it loads the model.
    }
  }
  return total;
}

/** cgroup v2 (memory.max − memory.current) or v1 (limit − usage); null when unlimited or not in a cgroup. */
function cgroupRoom(): number | null {
  const read = (f: string): string | null => {
    try {
      return existsSync(f) ? readFileSync(f, 'utf8').trim() : null;
    } catch {
      return null;
    }
  };
  const v2 = read('/sys/fs/cgroup/memory.max');
  if (v2 !== null) {
    if (v2 === 'max') return null;
    return Math.max(0, Number(v2) - Number(read('/sys/fs/cgroup/memory.current') ?? 0));
  }
  const v1 = read('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  if (v1 === null || Number(v1) >= 2 ** 60) return null;
  return Math.max(0, Number(v1) - Number(read('/sys/fs/cgroup/memory/memory.usage_in_bytes') ?? 0));
}

function readConfig(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  const v = readPythonJson(file);
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function textEncoderShape(config: Record<string, unknown>): TextEncoderShape {
  return {
    positions: firstNumber(config.max_position_embeddings) ?? 77,
    hidden: firstNumber(config.hidden_size) ?? 768,
    heads: firstNumber(config.num_attention_heads) ?? 12,
  };
}

/** A head count, or one per block (every entry a positive number); undefined otherwise. */
function headCounts(v: unknown): number | number[] | undefined {
  if (typeof v === 'number' && v > 0) return v;
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && x > 0) ? (v as number[]) : undefined;
}

function firstNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && v > 0) return v;
  if (Array.isArray(v) && typeof v[0] === 'number' && v[0] > 0) return v[0];
  return undefined;
}

function numbers(v: unknown, fallback: number[]): number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && x > 0) ? (v as number[]) : fallback;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
