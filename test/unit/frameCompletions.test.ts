// What the Debug Console completes in a paused TS/JS frame (src/debug/node/frameCompletions.ts
// completionTarget): a name, or a member of the expression before the dot; nothing after a decimal point or
// an unbalanced bracket. The inspector side is tested through the adapter (test/adapter/completions.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionTarget } from '../../src/debug/node/frameCompletions';

test('completionTarget: names, members after chains, brackets, calls and optional chaining', () => {
  assert.deepEqual(completionTarget(''), { word: '' });
  assert.deepEqual(completionTarget('dec'), { word: 'dec' });
  assert.deepEqual(completionTarget('x = a + dec'), { word: 'dec' });
  assert.deepEqual(completionTarget('preds.'), { object: 'preds', word: '' });
  assert.deepEqual(completionTarget('x = preds.ar'), { object: 'preds', word: 'ar' });
  assert.deepEqual(completionTarget('a.b.c'), { object: 'a.b', word: 'c' });
  assert.deepEqual(completionTarget('f(evalPred[0].sh'), { object: 'evalPred[0]', word: 'sh' });
  assert.deepEqual(completionTarget('m.get("x)").va'), { object: 'm.get("x)")', word: 'va' });
  assert.deepEqual(completionTarget('a?.b?.c'), { object: 'a?.b', word: 'c' });
  assert.deepEqual(completionTarget('$el._x'), { object: '$el', word: '_x' });
  assert.deepEqual(completionTarget('[1, 2].ma'), { object: '[1, 2]', word: 'ma' });
});

test('completionTarget: nothing after a number\'s decimal point, a lone dot or unbalanced brackets', () => {
  assert.equal(completionTarget('1.'), undefined);
  assert.equal(completionTarget('x = 10.5'), undefined);
  assert.equal(completionTarget('.x'), undefined);
  assert.equal(completionTarget('a].b'), undefined);
  assert.equal(completionTarget('1abc'), undefined);
  // a number inside a name is a name
  assert.deepEqual(completionTarget('row2.x'), { object: 'row2', word: 'x' });
});

test('completionTarget: a conditional\'s ? is not optional chaining', () => {
  assert.deepEqual(completionTarget('ok?a.b'), { object: 'a', word: 'b' });
});
