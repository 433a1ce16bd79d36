/**
 * Bad inputs of the pipeline families and image-to-image, through the CLI:
 * exit 2, one line on stderr naming the file or flag, no stack trace, and the
 * image the run was pointed at left untouched.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/testing/cli.ts';
import { FAMILIES_REFERENCE } from '../../src/testing/paths.ts';

const SD = join(FAMILIES_REFERENCE, 'sd', 'model');
const SDXL = join(FAMILIES_REFERENCE, 'sdxl', 'model');
const LCM = join(FAMILIES_REFERENCE, 'lcm', 'model');
const INPUT = join(FAMILIES_REFERENCE, 'sd', 'input.png');
const PIPELINE = ['--prompt', 'a red cube', '--seed', '3', '--steps', '2', '--height', '64', '--width', '64', '--quiet'];

let root: string;
let out: string;
const fx: Record<string, string> = {};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lockstep-family-bad-'));
  out = join(root, 'existing.png');
  writeFileSync(out, 'an image a bad run must not overwrite');
  fx.sdxlNoTe2 = join(root, 'sdxl-no-te2');
  cpSync(SDXL, fx.sdxlNoTe2, { recursive: true });
  rmSync(join(fx.sdxlNoTe2, 'text_encoder_2'), { recursive: true });
  // An SDXL refiner as optimum exports it: requires_aesthetics_score, no first text encoder.
  fx.refiner = join(root, 'sdxl-refiner');
  cpSync(SDXL, fx.refiner, { recursive: true });
  rmSync(join(fx.refiner, 'text_encoder'), { recursive: true });
  const index = JSON.parse(readFileSync(join(SDXL, 'model_index.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(fx.refiner, 'model_index.json'), JSON.stringify({ ...index, _class_name: 'StableDiffusionXLImg2ImgPipeline', requires_aesthetics_score: true, text_encoder: [null, null] }));
  fx.notImage = join(root, 'not-an-image.png');
  writeFileSync(fx.notImage, 'this is not a PNG');
});

const CASES: { name: string; args: () => string[]; names: RegExp }[] = [
  { name: 'an SDXL folder without text_encoder_2', args: () => ['generate', '--model', fx.sdxlNoTe2, '--out', out, ...PIPELINE], names: /text_encoder_2\/model\.onnx/ },
  {
    name: 'an SDXL refiner folder (requires_aesthetics_score)',
    args: () => ['generate', '--model', fx.refiner, '--image', INPUT, '--out', out, ...PIPELINE],
    names: /model_index\.json: requires_aesthetics_score is true — an SDXL refiner/,
  },
  { name: 'a U-Net without timestep_cond asked to run as lcm', args: () => ['generate', '--model', SD, '--pipeline', 'lcm', '--out', out, ...PIPELINE], names: /'timestep_cond'/ },
  { name: 'an LCM model with a scheduler whose step gives no denoised sample', args: () => ['generate', '--model', LCM, '--scheduler', 'ddim', '--out', out, ...PIPELINE], names: /--scheduler ddim: the lcm pipeline .*only LCMScheduler/ },
  { name: 'an unknown --pipeline', args: () => ['generate', '--model', SD, '--pipeline', 'kandinsky', '--out', out, ...PIPELINE], names: /--pipeline/ },
  { name: '--strength 0', args: () => ['generate', '--model', SD, '--image', INPUT, '--strength', '0', '--out', out, ...PIPELINE], names: /--strength/ },
  { name: '--strength 1.5', args: () => ['generate', '--model', SD, '--image', INPUT, '--strength', '1.5', '--out', out, ...PIPELINE], names: /--strength/ },
  {
    name: 'LCM image-to-image whose strength leaves fewer origin timesteps than --steps',
    args: () => ['generate', '--model', LCM, '--image', INPUT, '--strength', '0.02', '--out', out, ...PIPELINE],
    names: /--strength 0\.02 with --steps 2: LCM image-to-image .* int\(50 × 0\.02\) = 1 origin timesteps/,
  },
  { name: '--strength without --image', args: () => ['generate', '--model', SD, '--strength', '0.5', '--out', out, ...PIPELINE], names: /--strength.*--image/ },
  {
    name: 'image-to-image with a scheduler lockstep has no add_noise for (kdpm2)',
    args: () => ['generate', '--model', SD, '--image', INPUT, '--scheduler', 'kdpm2', '--out', out, ...PIPELINE],
    names: /image-to-image: lockstep has no add_noise for kdpm2/,
  },
  { name: '--image that is not an image', args: () => ['generate', '--model', SD, '--image', fx.notImage, '--out', out, ...PIPELINE], names: /not-an-image\.png/ },
  {
    name: '--image of another size than --width/--height',
    args: () => ['generate', '--model', SD, '--image', INPUT, '--out', out, ...PIPELINE.map((a) => (a === '64' ? '128' : a))],
    names: /input\.png: the image is 64x64.*--width 128 --height 128/,
  },
];

describe('family and image-to-image bad inputs through the CLI', () => {
  it.each(CASES)('$name: exit 2, one line naming it, nothing overwritten', async (c) => {
    const before = readFileSync(out);
    const r = await runCli(c.args());
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(c.names);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(out).equals(before)).toBe(true);
  });
});
