import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/core/tensor/tensor';
import { floatToHalf, halfToFloat } from '../../src/core/tensor/dtype';

test('argmax follows NumPy: first maximum wins, NaN wins', () => {
  const t = Tensor.from('float32', [3, 3], [1, 5, 5, 2, 1, 0, 0, NaN, 9]);
  assert.deepEqual(t.argmax(-1).toArray(), [1, 0, 1]);
  assert.deepEqual(t.argmax(0).toArray(), [1, 2, 2]);
});

test('row() shares memory and get() accepts negative indices', () => {
  const t = Tensor.from('int64', [2, 3], [1, 2, 3, 4, 5, 6]);
  assert.equal(t.get(-1, -1), 6);
  const r = t.row(1);
  r.set(0, 40);
  assert.equal(t.get(1, 0), 40);
  assert.throws(() => t.get(2, 0), /out of bounds for axis 0 with size 2/);
});

test('float16 round-trips through bits with round-to-nearest-even', () => {
  for (const v of [0, 1, -2.5, 65504, 2 ** -14, 2 ** -24]) assert.equal(halfToFloat(floatToHalf(v)), v);
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie -> even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(halfToFloat(floatToHalf(70000)), Infinity);
});

test('constructor rejects a data length that does not match the shape', () => {
  assert.throws(() => new Tensor('float32', [2, 2], new Float32Array(3)), /needs 4 elements, got 3/);
});

test('argmax orders int64 values beyond 2^53 exactly (a fuzzed cache held such predictions)', () => {
  const t = Tensor.from('int64', [2, 3], [2n ** 60n, 2n ** 60n + 1n, -5n, -(2n ** 62n), -(2n ** 62n) - 1n, -(2n ** 62n)]);
  assert.deepEqual([...(t.argmax(-1).data as BigInt64Array)], [1n, 0n]);
});
