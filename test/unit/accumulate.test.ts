import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopContainer, concatNodes, numpyMeanFloat32 } from '../../src/core/loop/accumulate';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { runPython } from '../helpers/python';

const ids = (rows: number[][]) => Tensor.from('int64', [rows.length, rows[0].length], rows.flat());

test('ragged widths are padded on the right with -100, rows left-aligned (docs/trainer-semantics.md#worked-examples: widths 12, 9, 15)', () => {
  const widths = [12, 9, 15];
  const sizes = [4, 4, 2];
  const c = new LoopContainer('inputs', true);
  widths.forEach((w, b) => c.add(ids(Array.from({ length: sizes[b] }, (_, r) => Array.from({ length: w }, (_, k) => 1000 * b + 10 * r + k + 1)))));
  const out = c.result() as Tensor;
  assert.deepEqual(out.shape, [10, 15]);
  // row 0 (batch 0): 12 values then three -100
  assert.equal(out.get(0, 11), 12);
  assert.deepEqual([out.get(0, 12), out.get(0, 13), out.get(0, 14)], [-100, -100, -100]);
  // rows 4-7 (batch 1): width 9, -100 in columns 9..14
  assert.equal(out.get(5, 8), 1000 + 10 + 9);
  assert.equal(out.get(5, 9), -100);
  // rows 8-9 (batch 2): full width, no padding
  assert.equal(out.get(9, 14), 2000 + 10 + 15);
});

test('float logits [n, L, C] pad every class slot of padded positions with -100.0', () => {
  const a = Tensor.from('float32', [1, 2, 2], [1, 2, 3, 4]);
  const b = Tensor.from('float32', [1, 3, 2], [5, 6, 7, 8, 9, 10]);
  const out = concatNodes([a, b], 'predictions') as Tensor;
  assert.deepEqual(out.toArray(), [[[1, 2], [3, 4], [-100, -100]], [[5, 6], [7, 8], [9, 10]]]);
});

test('equal widths concatenate plainly; 1-D vectors concatenate; tuples merge member-wise and zip truncates', () => {
  const t = (v: number[]) => Tensor.from('float32', [v.length], v);
  const out = concatNodes([{ tuple: [t([1]), t([2]), t([9])] }, { tuple: [t([3]), t([4])] }], 'p') as { tuple: TensorNode[] };
  assert.equal(out.tuple.length, 2);
  assert.deepEqual((out.tuple[0] as Tensor).toArray(), [1, 3]);
  assert.deepEqual((out.tuple[1] as Tensor).toArray(), [2, 4]);
});

test('a 0-d per-batch value becomes one entry per batch with >= 2 batches, and stays 0-d with one batch (§4.7 F)', () => {
  const s = (v: number) => Tensor.from('float32', [], [v]);
  assert.deepEqual((concatNodes([s(1), s(2), s(3)], 'aux') as Tensor).shape, [3]);
  assert.deepEqual((concatNodes([s(1)], 'aux') as Tensor).shape, []);
});

test('structure and rank mismatches raise, as Trainer does (O18: a batch that lost its batch axis)', () => {
  const a = Tensor.from('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
  assert.throws(() => concatNodes([a, { tuple: [a] }], 'predictions'), /batch 1 produced a tuple but batch 0 produced a tensor/);
  assert.throws(() => concatNodes([a, Tensor.from('float32', [3], [1, 2, 3])], 'predictions'), /cannot be concatenated/);
  assert.throws(() => concatNodes([Tensor.full('float32', [1, 2, 3]), Tensor.full('float32', [1, 2, 4])], 'p'), /axes 2 and beyond/);
});

test('eval_do_concat_batches=False keeps a list of per-batch arrays with no -100 (§4.7 G)', () => {
  const c = new LoopContainer('predictions', false);
  c.add(ids([[1, 2, 3]]));
  c.add(ids([[4]]));
  const out = c.result() as { list: Tensor[] };
  assert.equal(out.list.length, 2);
  assert.deepEqual(out.list[1].toArray(), [[4]]);
  assert.equal(new LoopContainer('x', true).result(), null);
});

test('numpyMeanFloat32 reproduces np.mean on float32 to the last bit (docs/trainer-semantics.md#loss-averaging example and random vectors)', () => {
  const v = new Float32Array([0.5, 0.5, 0.5, 0.5, 0.7, 0.7, 0.7, 0.7, 0.9, 0.9]);
  assert.equal(numpyMeanFloat32(v), 0.6600000262260437);
  const lens = [3, 8, 13, 128, 129, 1000, 4099];
  const py = runPython(
    `import numpy as np\nrng=np.random.default_rng(7)\nfor n in ${JSON.stringify(lens)}:\n` +
      `    a=(rng.random(n)*3).astype(np.float32)\n    print(' '.join(repr(float(x)) for x in a)+'|'+repr(float(np.mean(a))))`,
  );
  for (const line of py.trim().split('\n')) {
    const [vals, mean] = line.split('|');
    const arr = new Float32Array(vals.split(' ').map(Number));
    assert.equal(numpyMeanFloat32(arr), Number(mean), `n=${arr.length}`);
  }
});
