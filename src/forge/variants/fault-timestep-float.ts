/**
 * `fault:timestep-float`: the U-Net's `timestep` input is declared float32 and
 * truncated to an integer inside (Cast to the original integer type, then on
 * as before). A bug class seen when porting SD to NPUs: fractional Euler
 * timesteps lose their fraction, integer DDIM/PNDM timesteps are unaffected.
 */
import { UsageError } from '../../errors.ts';
import { DT, Namer, graphOf, intAttribute, node, rewireInputs } from './graph-edit.ts';
import type { ComponentInput, TouchCount, VariantKind } from './types.ts';

export function timestepFloatKind(): VariantKind {
  return {
    kind: 'fault:timestep-float',
    parameters: { input: 'timestep', declared: 'float32', inside: 'Cast to the original integer type (truncates toward zero)' },
    defaultComponents: ['unet'],
    notes: ['Integer timesteps (DDIM, PNDM, DPM-Solver) pass unchanged; Euler-family fractional timesteps lose their fraction.'],
    apply: applyTimestepFloat,
  };
}

function applyTimestepFloat({ model, component, file }: ComponentInput): TouchCount {
  const graph = graphOf(model);
  const input = (graph.input ?? []).find((i) => i.name === 'timestep');
  const tensorType = input?.type?.tensorType;
  const original = tensorType?.elemType ?? 0;
  if (!tensorType || ![DT.INT64, DT.INT32].includes(original)) {
    const why = input ? `its 'timestep' input is not an integer type` : `it has no 'timestep' input`;
    throw new UsageError(`fault:timestep-float does not apply to the ${component} (${file}): ${why}`);
  }
  tensorType.elemType = DT.FLOAT;
  const namer = new Namer(graph, 'fault_timestep_float');
  const truncated = namer.name('timestep_truncated');
  const consumers = rewireInputs(graph, 'timestep', truncated);
  graph.node = [node('Cast', namer.name('Cast'), ['timestep'], [truncated], [intAttribute('to', original)]), ...(graph.node ?? [])];
  return { weights: 0, nodes: 1, details: { rewiredInputs: consumers } };
}
