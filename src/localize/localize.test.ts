import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { loadModel } from '../forge/onnx-io.ts';
import type { ModelProto } from '../forge/graph.ts';
import { writeNpy } from '../tensor/npy.ts';
import { float32 } from '../tensor/tensor.ts';
import { type LocalizeOptions, localize } from './localize.ts';
import { TINY_SD, changeEpsilon, qdqRenamed, softmaxFp16, writeCandidate } from './testing/faults.ts';

// The torch-exported tiny pipeline (not built by this project); VAE at 64×64 (8×8 latents).
const C = 'vae_decoder' as const;
let ref: ModelProto;
let inputsDir: string;
let norm: string;

const run = (candidate: string, o: Partial<LocalizeOptions> = {}) =>
  localize({ reference: TINY_SD, candidate, component: C, inputs: { inputsDir }, ...o });

beforeAll(() => {
  ref = loadModel(join(TINY_SD, C, 'model.onnx'));
  inputsDir = mkdtempSync(join(tmpdir(), 'localize-in-'));
  const lat = float32([1, 4, 8, 8]);
  lat.data.forEach((_, i) => (lat.data[i] = Math.sin(i * 0.37)));
  writeNpy(join(inputsDir, 'latent_sample.npy'), lat);
  // The 4th GroupNorm (resnets.1/norm1 of the mid block): not the first, so "first" means something.
  norm = ref.graph!.node!.filter((n) => n.opType === 'InstanceNormalization')[3].name!;
});

describe('localize on a GroupNorm epsilon changed in one layer', () => {
  let candidate: string;
  beforeAll(() => (candidate = writeCandidate(changeEpsilon(ref, norm, 1), C)));

  it('entire mode names that InstanceNormalization, with everything before it passing', async () => {
    const r = await run(candidate);
    expect(r.first?.match.refNode.name).toBe(norm);
    expect(r.first?.match.refNode.opType).toBe('InstanceNormalization');
    expect(r.rows.filter((x) => x.position < r.first!.position).every((x) => x.failed.length === 0)).toBe(true);
    expect(r.path.at(-1)?.name).toBe(norm);
    expect(r.path[0].opType).toBe('Conv'); // post_quant_conv reads the model input
  });

  it('single mode names it too: downstream nodes inherit the error but have no own error', async () => {
    const r = await run(candidate, { mode: 'single' });
    expect(r.first?.match.refNode.name).toBe(norm);
    const after = r.rows.filter((x) => x.position > r.first!.position);
    expect(after.some((x) => x.failed.length > 0)).toBe(true); // inherited
    expect(after.filter((x) => x.own!.failed.length > 0)).toEqual([]); // own
  });

  it('keeps captured tensors within --max-memory over several batches, with the same answer', async () => {
    const budget = 24 << 20;
    const one = await run(candidate);
    const bounded = await run(candidate, { maxMemoryBytes: budget });
    expect(bounded.stats.batches).toBeGreaterThan(1);
    expect(bounded.stats.maxHeldBytes).toBeLessThanOrEqual(budget);
    expect(one.stats.batches).toBe(1);
    expect(one.stats.maxHeldBytes).toBeGreaterThan(budget);
    expect(bounded.first?.match.reference).toBe(one.first?.match.reference);
    expect(bounded.rows.map((x) => x.metrics.cosine)).toEqual(one.rows.map((x) => x.metrics.cosine));
  });

  it('bisect finds the same node as the scan with fewer runs', async () => {
    const budget = 24 << 20;
    const s = await run(candidate, { maxMemoryBytes: budget });
    const b = await run(candidate, { maxMemoryBytes: budget, strategy: 'bisect' });
    expect(b.first?.match.reference).toBe(s.first?.match.reference);
    expect(b.stats.runs).toBeLessThan(s.stats.runs);
    expect(b.rows.length).toBeLessThan(s.rows.length);
  });
});

describe('localize on attention Softmax computed in float16', () => {
  it('names the attention Softmax in both modes', async () => {
    const candidate = writeCandidate(softmaxFp16(ref), C);
    for (const mode of ['entire', 'single'] as const) {
      const r = await run(candidate, { mode, thresholds: { relL2: 1e-4 } });
      expect(r.first?.match.refNode.opType).toBe('Softmax');
      expect(r.first?.match.refNode.name).toContain('attention');
    }
  });
});

describe('topology matching', () => {
  it('pairs every value of a fully renamed copy, with zero error', async () => {
    const candidate = writeCandidate(qdqRenamed(ref, false), C);
    const byName = await run(candidate, { match: 'name' });
    const byTopo = await run(candidate, { match: 'topology' });
    expect(byName.counts.matched).toBe(0 + byName.counts.byName); // only graph outputs keep their names
    expect(byName.counts.matched).toBeLessThan(5);
    expect(byTopo.counts.matched).toBe(byTopo.counts.reference);
    expect(byTopo.rows.every((x) => x.metrics.relL2 === 0)).toBe(true);
    expect(byTopo.first).toBeNull();
  });

  it('matches through inserted QuantizeLinear/DequantizeLinear pairs and names the first quantized MatMul', async () => {
    const q = qdqRenamed(ref);
    const candidate = writeCandidate(q, C);
    const r = await run(candidate); // auto: name first, topology for the rest
    expect(r.counts.byTopology).toBeGreaterThan(200);
    expect(r.counts.matched).toBe(r.counts.reference);
    const firstMatMul = ref.graph!.node!.find((n) => n.opType === 'MatMul')!.name;
    expect(r.first?.match.refNode.name).toBe(firstMatMul);
    expect(r.first?.match.candidate).toMatch(/^q::/);
  });
});

describe('lockstep localize CLI', () => {
  it('writes report.json and report.html and exits 1 on a divergence', async () => {
    const candidate = writeCandidate(changeEpsilon(ref, norm, 1), C);
    const report = mkdtempSync(join(tmpdir(), 'localize-rep-'));
    const code = await main(['node', 'lockstep', 'localize', '--reference', TINY_SD, '--candidate', candidate, '--component', C, '--inputs', inputsDir, '--strategy', 'bisect', '--max-memory', '24', '--report', report]);
    expect(code).toBe(1);
    const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    expect(doc.format).toBe('lockstep.localize/1');
    expect(doc.firstDivergent.node.name).toBe(norm);
    expect(readFileSync(join(report, 'report.html'), 'utf8')).toContain('data:image/png;base64,');
  });

  it('runs the text encoder of the torch-exported pipeline from a recorded trace (identical builds: exit 0)', async () => {
    const report = mkdtempSync(join(tmpdir(), 'localize-rep-'));
    const trace = '/work/shared/reference/traces/ddim_s10_seed42_g7.5_128x128';
    const code = await main(['node', 'lockstep', 'localize', '--reference', TINY_SD, '--candidate', TINY_SD, '--component', 'text_encoder', '--trace', trace, '--report', report]);
    expect(code).toBe(0);
    expect(existsSync(join(report, 'report.html'))).toBe(true);
  });

  it('refuses a bad --component and a missing input source with exit 2', async () => {
    const report = mkdtempSync(join(tmpdir(), 'localize-rep-'));
    const base = ['node', 'lockstep', 'localize', '--reference', TINY_SD, '--candidate', TINY_SD, '--report', report];
    expect(await main([...base, '--component', 'vae', '--inputs', inputsDir])).toBe(2);
    expect(await main([...base, '--component', C])).toBe(2);
    expect(await main([...base, '--component', C, '--threshold', 'cos=0.9', '--inputs', inputsDir])).toBe(2);
  });
});
