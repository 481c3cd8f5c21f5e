// The expression language's built-ins come from one table, and evaluation runs in slices (issue 9 item 4,
// issue 15 item 5): the table drives `help` and the function list in errors; a long evaluation gives the event
// loop turns and stops when cancelled; the blocked argmax gives Tensor.argmax's answer across block edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTINS, EvaluationCancelled, FUNCTIONS, evaluateExpression, evaluateSliced, helpLines, runSliced } from '../../src/core/expr';
import { argExtremeAxis } from '../../src/core/expr/tensorOps';
import { EvalPredictionData, Tensor } from '../../src/core/tensor/tensor';

const big = (): EvalPredictionData => {
  const data = new Float32Array(2_000_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 3;
  return { predictions: new Tensor('float32', [2000, 1000], data), labelIds: Tensor.from('int64', [3], [0, 1, 2]), inputs: null, losses: null };
};

test('every built-in of the table is documented in help, and the table is the function list errors give', () => {
  const help = helpLines().join('\n');
  for (const b of BUILTINS) {
    assert.ok(b.description.length > 10, `${b.name} has a description`);
    assert.ok(help.includes(b.usage) && help.includes(b.description), `help documents ${b.name}`);
    assert.ok(b.arity[0] >= 1 && b.arity[0] <= b.arity[1], `${b.name} arity`);
    assert.ok(b.function || b.method, `${b.name} is callable somehow`);
  }
  assert.equal(helpLines().length, BUILTINS.length);
  assert.deepEqual([...FUNCTIONS], BUILTINS.filter((b) => b.function).map((b) => b.name));
  const ctx = { evalPred: big() };
  assert.throws(() => evaluateExpression('nosuch(predictions)', ctx), (e: Error) => e.message.includes(`functions: ${FUNCTIONS.join(', ')}`));
  // Arity comes from the table: argmax takes 1 to 2, len exactly 1.
  assert.throws(() => evaluateExpression('argmax(predictions, 1, 2)', ctx), /argmax\(\) takes 1 to 2 arguments, got 3/);
  assert.throws(() => evaluateExpression('len()', ctx), /len\(\) takes 1 argument, got 0/);
  assert.throws(() => evaluateExpression('predictions.count()', ctx), /has no method 'count'/);
  assert.equal((evaluateExpression('predictions.tolist()', ctx) as Tensor).size, 2_000_000);
});

test('a sliced evaluation lets the event loop run between slices and gives the same value as a plain one', async () => {
  const ctx = { evalPred: big() };
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  try {
    const v = await evaluateSliced('sum(predictions + predictions)', ctx);
    // sum of i % 3 over 2,000,000 elements: 666,666 full cycles (3 each) and the last two, 0 and 1.
    assert.equal(v, 2 * 1_999_999);
  } finally {
    clearInterval(ticker);
  }
  assert.ok(turns > 0, 'timers ran while the evaluation was under way');
  assert.equal(evaluateExpression('sum(predictions + predictions)', ctx), 2 * 1_999_999);
});

test('an aborted signal stops a sliced evaluation at its next slice with EvaluationCancelled naming why', async () => {
  const ctl = new AbortController();
  const p = evaluateSliced('sum(predictions + predictions + predictions + predictions)', { evalPred: big() }, ctl.signal);
  setImmediate(() => ctl.abort('a newer expression was evaluated'));
  await assert.rejects(p, (e: Error) => e instanceof EvaluationCancelled && /evaluation cancelled: a newer expression was evaluated/.test(e.message));
  // A generator that finishes first is not affected by a later abort.
  const done = new AbortController();
  assert.equal(await runSliced((function* () { yield; return 5; })(), done.signal), 5);
  done.abort('late');
});

test('argmax in blocks equals Tensor.argmax: ties take the first, the first NaN wins, block edges crossed', () => {
  const run = (t: Tensor, axis: number) => {
    const g = argExtremeAxis(t, axis);
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
    }
  };
  // 1-d, 3 M elements (three blocks): the maximum appears first in block 2 and again later (a tie).
  const n = 3_000_000;
  const flat = new Float32Array(n);
  flat[1_500_000] = 9;
  flat[2_900_000] = 9;
  const t = new Tensor('float32', [n], flat);
  assert.equal(run(t, 0).at(0), 1_500_000);
  assert.equal(run(t, 0).at(0), t.argmax(0).at(0));
  // A NaN after the maximum wins; a NaN earlier in another block wins over a later maximum.
  flat[2_500_000] = NaN;
  assert.equal(run(t, 0).at(0), 2_500_000);
  flat[10] = NaN;
  assert.equal(run(t, 0).at(0), 10);
  assert.equal(run(t, 0).at(0), t.argmax(0).at(0));
  // 2-d along axis 0 and -1, int64 and float16 too, against Tensor.argmax.
  const rows = 1100;
  const cols = 1000;
  const vals = Array.from({ length: rows * cols }, (_, i) => ((i * 7919) % 1013) - 500);
  for (const dtype of ['float32', 'int64', 'float16'] as const) {
    const m = Tensor.from(dtype, [rows, cols], vals);
    for (const axis of [0, 1, -1]) assert.deepEqual(run(m, axis).data, m.argmax(axis).data, `${dtype} axis ${axis}`);
  }
  assert.throws(() => run(t, 2), /axis 2 is out of bounds/);
});
