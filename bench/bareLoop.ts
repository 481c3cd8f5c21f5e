// The baseline the loop benchmarks measure against: a bare `session.run` loop over batches tokenized beforehand;
// and the ceiling beside it: the same batches on two one-thread lanes, the model's products alone (docs/testing.md#the-tiny-models-loop-bench).
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { inOrder } from '../src/core/loop/inOrder';
import { LanePool } from '../src/core/model/lanes/pool';
import { GraphBuilder, attr } from '../src/core/model/onnx/builder';
import { Tensor } from '../src/core/tensor/tensor';
import { timeIt } from './util';

const feedsOf = (f: Record<string, Tensor>): Record<string, ort.Tensor> => ({
  input_ids: new ort.Tensor('int64', f.input_ids.data as BigInt64Array, [...f.input_ids.shape]),
  attention_mask: new ort.Tensor('int64', f.attention_mask.data as BigInt64Array, [...f.attention_mask.shape]),
});

/**
 * Milliseconds of one pass of `session.run` over `batches` (their input_ids and attention_mask), on a fresh session
 * opened outside the timing with `options` (default: onnxruntime's), as the loop opens one per run: the first pass
 * over new sequence lengths grows onnxruntime's memory arena in both.
 */
export async function timeBareLoop(modelFile: string, batches: Record<string, Tensor>[], options: ort.InferenceSession.SessionOptions = {}): Promise<number> {
  const session = await ort.InferenceSession.create(modelFile, options);
  try {
    return await timeIt(async () => {
      for (const f of batches) await session.run(feedsOf(f));
    });
  } finally {
    await session.release();
  }
}

/**
 * The same pass on `lanes` inference lanes of one thread each (src/core/model/lanes), opened outside the timing, with
 * a batch per lane in flight: the most separate sessions get from the machine's cores, with no start to pay for.
 */
export async function timeLanesLoop(modelFile: string, batches: Record<string, Tensor>[], lanes = 2): Promise<number> {
  const pool = new LanePool(modelFile, { intraOpNumThreads: 1 }, lanes);
  try {
    if ((await pool.opened) < lanes) throw new Error(`only ${pool.ready} of ${lanes} inference lanes opened ${modelFile}`);
    const noLane = (): never => {
      throw new Error('an inference lane went away during the bench');
    };
    return await timeIt(async () => {
      for await (const out of inOrder(batches.length, lanes, (i) => pool.run(feedsOf(batches[i]), noLane))) if (!out.logits) throw new Error("a lane returned no logits");
    });
  } finally {
    await pool.close();
  }
}

/**
 * Writes `file`: the bench model's per-token products alone (x [tokens, h] -> MatMul [h, f] -> Relu -> MatMul [f, h]),
 * the bulk of its work, summed over the tokens so that, as the model's logits, little comes back to JavaScript;
 * timeProductsLoop runs it over the same token counts as the batches.
 */
export function writeProductsModel(file: string, h: number, f: number): void {
  const w = (k: number, n: number) => Tensor.from('float32', [k, n], Array.from({ length: k * n }, (_, i) => ((i * 7919) % 1000) / 10000 - 0.05));
  const g = new GraphBuilder('products');
  g.input('x', 'float32', ['tokens', h]).initializer('w1', w(h, f)).initializer('w2', w(f, h));
  const y = g.op('MatMul', [g.op('Relu', [g.op('MatMul', ['x', 'w1'])]), 'w2']);
  g.node('ReduceSum', [y, g.constant(Tensor.from('int64', [1], [0]))], ['sum'], { keepdims: attr.int(0) });
  g.output('sum', 'float32', [h]);
  fs.writeFileSync(file, g.toModel());
}

/** Milliseconds of one pass of that model over each batch's tokens (padding included), a default session opened outside the timing. */
export async function timeProductsLoop(file: string, batches: Record<string, Tensor>[], h: number): Promise<number> {
  const session = await ort.InferenceSession.create(file);
  try {
    const xs = batches.map((b) => {
      const tokens = b.input_ids.shape[0] * b.input_ids.shape[1];
      return new ort.Tensor('float32', new Float32Array(tokens * h).map((_, i) => (i % 13) / 13), [tokens, h]);
    });
    return await timeIt(async () => {
      for (const x of xs) await session.run({ x });
    });
  } finally {
    await session.release();
  }
}
