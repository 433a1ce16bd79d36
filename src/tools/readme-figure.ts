/**
 * README's report picture and its caption, made by one command
 * (`npm run readme-figure`): a variant of a model compared with the model
 * itself, the report screenshotted into docs/images/report.png and the
 * caption's figures taken from that run's report.json, written between
 * markers in README.md. A test reruns the comparison and fails when the
 * README's caption is not what this command prints.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTinyModel } from '../forge/cache.ts';
import { hashTree } from '../forge/tiny.ts';
import { forgeVariant } from '../forge/variants/forge-variant.ts';
import { defaultThresholds } from '../gates/index.ts';
import { runLockstep } from '../lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { SHAPES_MODEL_DIR } from '../models/builtin.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from '../pipeline/settings.ts';
import type { ReportDocument } from '../report/schema.ts';
import { extremes } from '../report/terminal.ts';
import { CACHE_DIR } from '../testing/paths.ts';

export interface FigureSpec {
  /** A model folder, or "tiny" for the forged tiny SD model (seed 0). */
  model: string;
  /** How the model is described in the caption. */
  modelName: string;
  /** The candidate: a `lockstep forge variant --kind` of the model. */
  variant: string;
  settings: PipelineSettings;
}

/** What README's picture shows. Another model (e.g. a trained one) is a change of `model` and `modelName`. */
export const README_FIGURE: FigureSpec = {
  model: SHAPES_MODEL_DIR,
  modelName: 'the built-in shapes model',
  variant: 'int8-dynamic',
  settings: {
    ...DEFAULT_SETTINGS,
    prompt: 'a yellow star on a purple background',
    negativePrompt: '',
    seed: 42,
    steps: 20,
    scheduler: 'ddim',
    height: 64,
    width: 64,
  },
};

export const CAPTION_BEGIN = '<!-- readme-figure: caption, written by `npm run readme-figure` -->';
export const CAPTION_END = '<!-- /readme-figure -->';

/** The variant folder, forged once into .cache/variants/ (keyed by the model's files and the kind). */
async function candidateOf(model: string, kind: string): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify({ files: hashTree(model), kind })).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, 'variants', `${kind.replace(/[^A-Za-z0-9.-]/g, '_')}-${key}`);
  if (!existsSync(join(out, 'variant.json'))) await forgeVariant({ from: model, kind, out });
  return out;
}

/** Runs the figure's comparison into `reportDir`. */
export async function runFigure(spec: FigureSpec, reportDir: string): Promise<ReportDocument> {
  const model = spec.model === 'tiny' ? await ensureTinyModel(0) : spec.model;
  const candidate = await candidateOf(model, spec.variant);
  return runLockstep({
    reference: { path: model, backend: DEFAULT_BACKEND, label: 'fp32 original' },
    candidate: { path: candidate, backend: DEFAULT_BACKEND, label: spec.variant },
    settings: spec.settings,
    thresholds: defaultThresholds(),
    reportDir,
  });
}

/** 3 significant digits: the figures should not flip with the last bits of another CPU's kernels. */
const sig = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x));
const cos = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** The caption, every figure from the report. */
export function caption(spec: FigureSpec, r: ReportDocument): string {
  const failed = r.gates.filter((g) => !g.passed).length;
  const tf = extremes(r, 'teacherForced');
  const fr = extremes(r, 'freeRunning');
  const last = r.steps.at(-1)?.freeRunning.latents;
  const p = r.pipeline;
  const parts = [
    `*An \`${spec.variant}\` variant of ${spec.modelName} against its fp32 original (${p.steps} ${p.scheduler.toUpperCase()} steps, \`npm run readme-figure\`):`,
    `${r.verdict.toUpperCase()}, ${failed} of ${r.gates.length} gates failed, first at step ${r.firstDivergentStep ?? '–'}.`,
    tf ? `Teacher-forced noisePred cosine ${cos(tf.cosine.value)} at worst (step ${tf.cosine.step}), relL2 up to ${sig(tf.relL2.value)};` : 'No teacher-forced comparison;',
    fr ? `free-running latents relL2 up to ${sig(fr.relL2.value)} (step ${fr.relL2.step})${last ? `, ${sig(last.relL2)} at the last step` : ''};` : '',
    r.final.image ? `final image PSNR ${r.final.image.psnr.toFixed(1)} dB, SSIM ${r.final.image.ssim.toFixed(3)}.*` : 'no final image.*',
  ];
  return parts.filter(Boolean).join(' ');
}

/** The caption README.md holds between the markers, or null when the markers are missing. */
export function readmeCaption(readme: string): string | null {
  const a = readme.indexOf(CAPTION_BEGIN);
  const b = readme.indexOf(CAPTION_END);
  if (a < 0 || b < a) return null;
  return readme.slice(a + CAPTION_BEGIN.length, b).trim();
}

export function withCaption(readme: string, text: string): string {
  const a = readme.indexOf(CAPTION_BEGIN);
  const b = readme.indexOf(CAPTION_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${CAPTION_BEGIN} … ${CAPTION_END} block`);
  return `${readme.slice(0, a + CAPTION_BEGIN.length)}\n${text}\n${readme.slice(b)}`;
}

export function readReadme(root: string): string {
  return readFileSync(join(root, 'README.md'), 'utf8');
}
