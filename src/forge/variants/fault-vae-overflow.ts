/**
 * `fault:vae-fp16-overflow`: a VAE decoder whose activation overflows float16.
 * Real fp16 VAE decoders (SDXL's notoriously, SD 1.x at high resolution) have
 * activations in the last up-blocks beyond 65504, which become Inf and then
 * NaN. The tiny model's activations are small, so this fault makes the
 * overflow happen on purpose: the input of the last Conv (conv_out) is
 * multiplied by a gain (default 2^17), cast to float16 and back, and divided
 * by the gain. Where |x|·gain ≤ 65504 this is fp16 rounding of x only (the
 * gain is a power of two); where it is larger the value becomes ±Inf, so the
 * decoded image has Inf/NaN pixels. It simulates where and how the failure
 * shows, not the real model's magnitudes.
 */
import { UsageError } from '../../errors.ts';
import { DT, Namer, graphOf, intAttribute, makeInitializer, node, spliceNodes } from './graph-edit.ts';
import type { ComponentInput, TouchCount, VariantKind } from './types.ts';

export const DEFAULT_OVERFLOW_GAIN = 2 ** 17;

export function vaeOverflowKind(gain: number): VariantKind {
  if (!(gain > 0) || !Number.isFinite(gain)) throw new UsageError(`--gain: expected a positive number, got ${gain}`);
  return {
    kind: 'fault:vae-fp16-overflow',
    parameters: { gain, at: 'input of the last Conv (conv_out)', overflowsAbove: 65504 / gain },
    defaultComponents: ['vae_decoder'],
    notes: ['Simulated: the gain pushes ordinary activations past the float16 maximum 65504; the real failure comes from large activations themselves.'],
    apply: (input) => applyVaeOverflow(input, gain),
  };
}

function applyVaeOverflow({ model, component, file }: ComponentInput, gain: number): TouchCount {
  if (component !== 'vae_decoder') throw new UsageError(`fault:vae-fp16-overflow does not apply to the ${component}: it is a VAE decoder fault (use --components vae_decoder)`);
  const graph = graphOf(model);
  const convs = (graph.node ?? []).filter((n) => n.opType === 'Conv');
  const last = convs[convs.length - 1];
  if (!last) throw new UsageError(`fault:vae-fp16-overflow does not apply to the ${component} (${file}): the graph has no Conv`);
  const namer = new Namer(graph, 'fault_vae_fp16_overflow');
  const x = last.input![0];
  const [gainName, invName, up, half, back, down] = ['gain', 'inverse_gain', 'scaled', 'fp16', 'fp32', 'restored'].map((s) => namer.name(s));
  graph.initializer!.push(makeInitializer(gainName, DT.FLOAT, [], Float32Array.of(gain)), makeInitializer(invName, DT.FLOAT, [], Float32Array.of(1 / gain)));
  last.input = [down, ...last.input!.slice(1)];
  spliceNodes(graph, [], new Map([[last, [
    node('Mul', namer.name('Gain'), [x, gainName], [up]),
    node('Cast', namer.name('CastToFp16'), [up], [half], [intAttribute('to', DT.FLOAT16)]),
    node('Cast', namer.name('CastToFp32'), [half], [back], [intAttribute('to', DT.FLOAT)]),
    node('Mul', namer.name('InverseGain'), [back, invName], [down]),
  ]]]));
  return { weights: 2, nodes: 4, details: { layer: last.name, activation: x } };
}
