/** A synthetic localize result for report tests: long node paths, an unexposable value, one divergent MatMul. */
import type { GraphNode } from '../graph-view.ts';
import type { LocalizeResult } from '../localize.ts';
import type { Row } from '../engine.ts';
import { metricsFor } from '../../report/testing/fixture.ts';

const OPS = ['Conv', 'Add', 'InstanceNormalization', 'Reshape', 'Mul', 'Transpose', 'MatMul', 'Softmax', 'MatMul', 'Add'];

function node(i: number): GraphNode {
  const opType = OPS[i % OPS.length];
  const name = `/down_blocks.1/attentions.0/transformer_blocks.0/attn1/${opType}_${i}`;
  return { index: i, name, opType, domain: '', inputs: [`v${i - 1}`], outputs: [`${name}_output_0`], proto: {} as GraphNode['proto'] };
}

export function syntheticLocalizeResult(rowsCount = 40, divergeAt = 26): LocalizeResult {
  const rows: Row[] = Array.from({ length: rowsCount }, (_, i) => {
    const n = node(i);
    // 16-digit floats on purpose: the page must format them, not print them raw.
    const rel = i === 0 ? 0 : i < divergeAt ? 1.234567890123456e-6 * (1 + i) : 0.01234567890123456 * (1 + (i % 3));
    return { position: i, match: { reference: n.outputs[0], candidate: n.outputs[0], by: i % 5 ? 'name' : 'topology', refNode: n, candNode: n }, metrics: metricsFor(rel, 4096), failed: i >= divergeAt ? [`relL2 ${rel} > 0.01`] : [] };
  });
  const first = rows[divergeAt] ?? null;
  return {
    options: { reference: '/models/tiny-sd', candidate: '/models/tiny-sd-int8-dynamic', component: 'unet', mode: 'entire', match: 'auto', strategy: 'scan', thresholds: { cosine: 0.9999, relL2: 0.01 }, maxMemoryBytes: null },
    referenceModel: '/models/tiny-sd/unet/model.onnx',
    candidateModel: '/models/a-rather-long-folder-name-for-a-quantized-candidate/tiny-sd-int8-dynamic/unet/model.onnx',
    matches: rows.map((r) => r.match),
    counts: { reference: rowsCount, candidate: rowsCount, matched: rowsCount, byName: rowsCount - 8, byTopology: 8 },
    rows,
    first,
    path: first ? rows.slice(0, divergeAt + 1).filter((_, i) => i % 3 === 0 || i === divergeAt).map((r) => ({ name: r.match.refNode.name, opType: r.match.refNode.opType })) : [],
    notExposable: [{ side: 'candidate', value: '/down_blocks.1/attentions.0/transformer_blocks.0/attn1/Cast_output_0', node: { name: '/down_blocks.1/attentions.0/transformer_blocks.0/attn1/Cast', opType: 'Cast' }, matchedTo: null, reason: 'ONNX Runtime rewrote it at load' }],
    stats: { batches: 2, maxHeldBytes: 3 << 20, maxPlannedBytes: 3 << 20, singleRuns: 0, runs: 2, rejectedRuns: 1, sizingRuns: 2 },
  };
}
