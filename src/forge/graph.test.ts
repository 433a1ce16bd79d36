import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, encodeModel, float, int } from './graph.ts';
import { streamFor, uniformWeights } from './prng.ts';

const { onnx } = onnxProto;

function tinyGraph(): GraphBuilder {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', 3]);
  const y = g.scope('block.0', () =>
    g.scope('norm', () => {
      const w = g.param('weight', [3], Float32Array.of(1, 2, 3));
      const a = g.node('Mul', [x, w]);
      const b = g.node('Mul', [a, g.constFloat([0.5], [])]);
      return g.node('LeakyRelu', [b], { alpha: float(1) });
    }),
  );
  g.output('y', 'float32', ['batch', 3], y);
  return g;
}

describe('GraphBuilder', () => {
  it("names nodes, outputs and parameters in torch's scoped style, numbering repeats", () => {
    const graph = tinyGraph().toModel().graph!;
    const names = graph.node!.map((n) => n.name);
    expect(names).toEqual(['/block.0/norm/Mul', '/block.0/norm/Constant', '/block.0/norm/Mul_1', '/block.0/norm/LeakyRelu']);
    expect(graph.node![0].output).toEqual(['/block.0/norm/Mul_output_0']);
    expect(graph.initializer!.map((t) => t.name)).toEqual(['block.0.norm.weight']);
    expect(graph.node![3].output).toEqual(['y']); // renamed to the graph output
  });

  it('types float attributes as FLOAT even for whole numbers, and runs in ORT', async () => {
    const model = tinyGraph().toModel();
    const alpha = model.graph!.node![3].attribute![0];
    expect(alpha.type).toBe(onnx.AttributeProto.AttributeType.FLOAT);
    expect(model.irVersion).toBe(8);
    const session = await ort.InferenceSession.create(encodeModel(model));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(2, 2, 2, -4, -4, -4), [2, 3]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([1, 2, 3, -2, -4, -6]);
    expect(int(2)).toEqual({ i: 2 });
  });

  it('refuses a tensor name used twice and data that does not fill its dims', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/);
    expect(() => g.param('w', [2, 2], new Float32Array(3))).toThrow(/hold 4 elements/);
  });

  it('serializes identically for identical calls', () => {
    expect(Buffer.from(encodeModel(tinyGraph().toModel())).equals(Buffer.from(encodeModel(tinyGraph().toModel())))).toBe(true);
  });
});

describe('weight streams', () => {
  it('are reproducible, keyed by seed and name, and uniform in the requested range', () => {
    const a = uniformWeights(0, 'conv.weight', 10_000, 0.5);
    expect(Array.from(uniformWeights(0, 'conv.weight', 10_000, 0.5))).toEqual(Array.from(a));
    expect(uniformWeights(1, 'conv.weight', 4, 0.5)).not.toEqual(a.subarray(0, 4));
    expect(uniformWeights(0, 'conv.bias', 4, 0.5)).not.toEqual(a.subarray(0, 4));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...a)).toBeLessThan(0.5);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + v * v, 0) / a.length - mean ** 2;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(variance).toBeCloseTo(0.25 / 3, 2);
  });

  it('pins the generator output so that forged weights cannot change silently', () => {
    const rng = streamFor(0, 'x');
    // Values from an independent Python implementation of splitmix64 seeding + FNV-1a + xoshiro128**.
    expect([rng.nextU32(), rng.nextU32(), rng.nextU32()]).toEqual([4121951232, 574794894, 3320296738]);
  });
});
