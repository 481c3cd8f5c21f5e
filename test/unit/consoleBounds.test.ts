// The Debug Console and the variables view stay bounded (issue 9 item 4): long expressions and huge results
// are refused with one clear paragraph, paging arguments are checked as DAP defines them, and earlier
// evaluation results are released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateExpression } from '../../src/core/expr';
import { MAX_EXPRESSION_CHARS } from '../../src/core/expr/evaluate';
import { MAX_RESULT_ELEMENTS } from '../../src/core/expr/tensorOps';
import { isEvalpredError } from '../../src/core/errors';
import { KEPT_EVALUATIONS, MAX_VARIABLES_PAGE, VariableStore, pagingOf } from '../../src/debug/variables';
import { EvalPredictionData, Tensor } from '../../src/core/tensor/tensor';

// 12,000 x 1,000 logits: 12 M elements, above the cap, so anything the size of the predictions is refused
// while rows, slices and reductions are not.
const N = 12_000;
const C = 1000;
function evalPred(): EvalPredictionData {
  return { predictions: new Tensor('float32', [N, C], new Float32Array(N * C)), labelIds: Tensor.from('int64', [N], new Array(N).fill(1)), inputs: null, losses: null };
}

test('an expression longer than the limit is refused before parsing, naming both lengths', () => {
  const ep = evalPred();
  const long = 'label_ids[0]' + ' + 0'.repeat(MAX_EXPRESSION_CHARS);
  assert.throws(() => evaluateExpression(long, { evalPred: ep }), (e: Error) => {
    assert.ok(isEvalpredError(e));
    assert.match(e.message, new RegExp(`the expression is ${long.length} characters long; .* up to ${MAX_EXPRESSION_CHARS} characters`));
    assert.ok(e.message.length < 400, 'the expression itself is not echoed back');
    return true;
  });
  assert.equal(evaluateExpression('len(label_ids) + 0', { evalPred: ep }), N);
});

test('results past the element cap are refused, whichever operation would build them', () => {
  const ep = evalPred();
  for (const expr of ['predictions * 2', 'exp(predictions)', 'softmax(predictions, -1)', '-predictions', 'predictions[label_ids == 1]', 'predictions[:, :] + 1']) {
    assert.throws(
      () => evaluateExpression(expr, { evalPred: ep }),
      (e: Error) => {
        assert.ok(isEvalpredError(e), `${expr}: ${e}`);
        assert.match(e.message, new RegExp(`the result would hold \\d+ elements from the float32\\[${N}, ${C}\\] array \\(45\\.8 MiB\\), more than the ${MAX_RESULT_ELEMENTS}`), expr);
        // The array is past the cap itself: the message says the reductions still take it whole.
        assert.match(e.message, /or reduce it: sum, mean, min, max, argmax, argmin, count take arrays of any size/, expr);
        return true;
      },
      expr,
    );
  }
  // Under the cap it still computes (a view or a small result).
  const row = evaluateExpression('predictions[3] * 2', { evalPred: ep }) as Tensor;
  assert.deepEqual(row.shape, [C]);
  assert.deepEqual((evaluateExpression('argmax(predictions, -1)', { evalPred: ep }) as Tensor).shape, [N]);
});

test('variables paging: whole numbers >= 0; count 0 / huge is clamped to one page', async () => {
  assert.deepEqual(pagingOf(undefined, undefined), { start: 0, count: MAX_VARIABLES_PAGE });
  assert.deepEqual(pagingOf(5, 10), { start: 5, count: 10 });
  assert.deepEqual(pagingOf(0, 1e12), { start: 0, count: MAX_VARIABLES_PAGE });
  assert.throws(() => pagingOf(-1, 10), /"start" must be a whole number >= 0, got -1/);
  assert.throws(() => pagingOf(0.5, 10), /"start" must be a whole number >= 0, got 0\.5/);
  assert.throws(() => pagingOf(0, -3), /"count" must be a whole number >= 0, got -3/);
  assert.throws(() => pagingOf('7', 1), /"start" must be a whole number >= 0, got "7"/);

  const store = new VariableStore({ evalPred: evalPred(), tokenIdField: () => false });
  const scope = store.evalPredScope();
  const preds = (await store.variables(scope)).find((v) => v.name === 'predictions')!;
  const rows = await store.variables(preds.variablesReference, 'indexed', 0, 1e12);
  assert.equal(rows.length, MAX_VARIABLES_PAGE, 'one page, not 12,000 rows');
  assert.equal(rows[0].name, '[0]');
  assert.deepEqual(await store.variables(preds.variablesReference, 'indexed', N + 5, 10), [], 'past the end: nothing');
  await assert.rejects(store.variables(preds.variablesReference, 'indexed', -1, 10), /"start" must be a whole number >= 0/);
  await assert.rejects(store.variables(preds.variablesReference, 'indexed', 1.5, 10), /"start" must be a whole number >= 0, got 1\.5/);
});

test(`only the last ${KEPT_EVALUATIONS} Debug Console results stay expandable; what was expanded under older ones goes with them`, async () => {
  const ep = evalPred();
  const store = new VariableStore({ evalPred: ep, tokenIdField: () => false });
  const base = store.liveReferences;
  const first = store.forValue('result', evaluateExpression('predictions[:20]', { evalPred: ep }), 'predictions[:20]');
  const rows = await store.variables(first.variablesReference, 'indexed', 0, 20);
  await store.variables(rows[0].variablesReference, 'named'); // expand a row and its statistics handle
  assert.ok((await store.variables(first.variablesReference, 'indexed', 0, 1)).length === 1);
  for (let k = 0; k < KEPT_EVALUATIONS; k++) store.forValue('result', evaluateExpression(`predictions[${k}]`, { evalPred: ep }), `predictions[${k}]`);
  assert.deepEqual(await store.variables(first.variablesReference, 'indexed', 0, 1), [], 'the oldest result is released');
  assert.deepEqual(await store.variables(rows[0].variablesReference, 'indexed', 0, 1), [], 'and the rows expanded under it');
  assert.ok(store.liveReferences <= base + KEPT_EVALUATIONS * 2, `${store.liveReferences} live references`);
});
