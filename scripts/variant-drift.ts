/**
 * Teacher-forced vs free-running behaviour of lockstep's variants on a model whose trajectory converges
 * (the trained shapes model by default): every variant × scheduler × step count compared against the fp32
 * model, one Markdown table row each. The figures in docs/variants.md and docs/thresholds.md come from here.
 *
 *   node --import tsx scripts/variant-drift.ts [--model DIR] [--steps 4,20,50] [--out reports/variant-drift]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { forgeVariant } from '../src/forge/variants/forge-variant.ts';
import { defaultThresholds } from '../src/gates/index.ts';
import { runLockstep } from '../src/lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../src/models/backend.ts';
import { SHAPES_MODEL_DIR } from '../src/models/builtin.ts';
import { generate } from '../src/pipeline/generate.ts';
import type { PipelineSettings } from '../src/pipeline/settings.ts';
import { extremes } from '../src/report/terminal.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: SHAPES_MODEL_DIR },
    steps: { type: 'string', default: '4,20,50' },
    schedulers: { type: 'string', default: 'ddim,euler-a,dpmpp-2m' },
    variants: { type: 'string', default: 'fp16,int8-weight,int8-dynamic,int8-qdq,prune-10' },
    out: { type: 'string', default: 'reports/variant-drift' },
  },
});

const model = resolve(values.model);
const out = resolve(values.out);
const base: Omit<PipelineSettings, 'steps' | 'scheduler'> = {
  prompt: 'a red circle on a blue background',
  negativePrompt: '',
  seed: 1,
  noise: 'torch-cpu',
  guidanceScale: 7.5,
  height: 64,
  width: 64,
};

async function variantDir(kind: string): Promise<string> {
  const dir = join(out, 'variants', kind);
  if (existsSync(join(dir, 'variant.json'))) return dir;
  let calibrate: string[] | undefined;
  if (kind === 'int8-qdq') {
    const trace = join(out, 'calibration-trace');
    if (!existsSync(join(trace, 'manifest.json'))) await generate({ model, settings: { ...base, steps: 20, scheduler: 'ddim' }, traceDir: trace });
    calibrate = [trace];
  }
  await forgeVariant({ from: model, kind, out: dir, components: ['unet'], calibrate });
  return dir;
}

const fmt = (v: number, digits = 4) => (Number.isFinite(v) ? (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(digits)) : String(v));

const rows: string[] = [
  '| variant | scheduler | steps | TF noise_pred cos (worst, step) | TF noise_pred relL2 (worst) | FR latents relL2 (last step) | image PSNR dB | gates failed |',
  '|---|---|---|---|---|---|---|---|',
];
mkdirSync(out, { recursive: true });
for (const kind of values.variants.split(',')) {
  const candidate = await variantDir(kind);
  for (const scheduler of values.schedulers.split(',')) {
    for (const steps of values.steps.split(',').map(Number)) {
      const report = await runLockstep({
        reference: { path: model, backend: DEFAULT_BACKEND },
        candidate: { path: candidate, backend: DEFAULT_BACKEND },
        settings: { ...base, scheduler, steps },
        thresholds: defaultThresholds(),
        reportDir: join(out, `${kind}-${scheduler}-${steps}`),
      });
      const tf = extremes(report, 'teacherForced');
      const tfCos = tf?.cosine ?? { value: NaN, step: -1 };
      const tfRel = tf?.relL2 ?? { value: NaN, step: -1 };
      const last = report.steps[report.steps.length - 1];
      const frLatents = last?.freeRunning.latents?.relL2 ?? NaN;
      const psnr = report.final?.image?.psnr ?? NaN;
      const failed = report.gates.filter((g) => !g.passed).length;
      const row = `| ${kind} | ${scheduler} | ${steps} | ${fmt(tfCos.value, 6)} (${tfCos.step}) | ${fmt(tfRel.value)} | ${fmt(frLatents)} | ${fmt(psnr, 1)} | ${failed} |`;
      rows.push(row);
      process.stdout.write(`${row}\n`);
    }
  }
}
writeFileSync(join(out, 'table.md'), `${rows.join('\n')}\n`);
process.stdout.write(`\ntable: ${join(out, 'table.md')}\n`);
