// Trainer-exact losses (docs/trainer-semantics.md#losses-we-compute) against reference implementations written in NumPy from torch's
// documented formulas (CrossEntropyLoss with ignore_index, BCEWithLogitsLoss, MSELoss, the QA head's
// clamp-then-ignore rule), plus small hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogits, crossEntropy, mse, qaLoss } from '../../src/core/model/loss';
import { shiftedCrossEntropy } from '../../src/core/model/heads/causalLm';
import { Tensor } from '../../src/core/tensor/tensor';
import { mulberry32 } from '../../src/demo/prng';
import { execFileSync } from 'node:child_process';
import { pythonWith } from '../helpers/python';
import { isEvalpredError } from '../../src/core/errors';

function randn(seed: number, n: number, scale = 3): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => Math.fround((rng() * 2 - 1) * scale));
}

function ints(seed: number, n: number, lo: number, hi: number): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => lo + Math.floor(rng() * (hi - lo)));
}

function assertRel(actual: number, expected: number, what: string, tol = 1e-6): void {
  assert.ok(Number.isFinite(expected), `${what}: reference is ${expected}`);
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1e-30, Math.abs(expected)), `${what}: got ${actual}, NumPy says ${expected}`);
}

// One Python process computes every reference value (keeps the file fast).
const REF_PY = String.raw`
import json, sys
import numpy as np
cases = json.loads(sys.stdin.read())
def ce(logits, labels, ignore):
    x = np.asarray(logits, dtype=np.float64); C = x.shape[-1]; x = x.reshape(-1, C)
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    keep = y != ignore
    m = x.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
    nll = lse - x[np.arange(len(y)), np.where(keep, y, 0)]
    return float(nll[keep].mean()) if keep.any() else float('nan')
def bce(x, y):
    x = np.asarray(x, dtype=np.float64); y = np.asarray(y, dtype=np.float64)
    return float((np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean())
def mse(a, b, squeeze):
    a = np.asarray(a, dtype=np.float64); b = np.asarray(b, dtype=np.float64)
    if squeeze: a = a.squeeze(); b = b.squeeze()
    return float(((a - b) ** 2).mean())
def qa(s, e, sp, ep):
    s = np.asarray(s, dtype=np.float64); L = s.shape[1]
    sp = np.clip(np.asarray(sp).reshape(-1), 0, L); ep = np.clip(np.asarray(ep).reshape(-1), 0, L)
    a = np.float32(ce(s, sp, L)); b = np.float32(ce(e, ep, L))
    return float(np.float32(np.float32(a + b) / np.float32(2)))
out = {}
for name, c in cases.items():
    k = c['kind']
    if k == 'ce': out[name] = ce(np.asarray(c['logits']).reshape(c['shape']), c['labels'], c.get('ignore', -100))
    elif k == 'bce': out[name] = bce(c['x'], c['y'])
    elif k == 'mse': out[name] = mse(np.asarray(c['a']).reshape(c['ashape']), np.asarray(c['b']).reshape(c['bshape']), c['squeeze'])
    elif k == 'qa': out[name] = qa(np.asarray(c['s']).reshape(c['shape']), np.asarray(c['e']).reshape(c['shape']), c['sp'], c['ep'])
    elif k == 'f16': out[name] = [float(v) for v in np.asarray(c['x'], dtype=np.float32).astype(np.float16).astype(np.float64)]
print(json.dumps(out))
`;

// Inputs shared by the JS side and the reference.
const n = 6;
const C = 5;
const L = 7;
const seqLogits = randn(1, n * C);
const seqLabels = ints(2, n, 0, C);
const tokLogits = randn(3, n * L * C);
const tokLabels = ints(4, n * L, 0, C).map((v, i) => (i % 3 === 0 ? -100 : v)); // a third ignored, like sub-word labels
const mlLogits = randn(5, n * C);
const mlTargets = ints(6, n * C, 0, 2);
const regPreds = randn(7, n);
const regTargets = randn(8, n, 5);
const qaStart = randn(9, n * L);
const qaEnd = randn(10, n * L);
// Out-of-range positions on purpose: -100 (clamped to 0, NOT ignored), L+3 (clamped to L = ignored), L (ignored).
const qaStartPos = [0, 3, -100, L + 3, 6, 2];
const qaEndPos = [1, L, 4, -100, 6, L + 10];

const cases = {
  seq: { kind: 'ce', logits: seqLogits, shape: [n, C], labels: seqLabels },
  tok: { kind: 'ce', logits: tokLogits, shape: [n, L, C], labels: tokLabels },
  ml: { kind: 'bce', x: mlLogits, y: mlTargets },
  reg: { kind: 'mse', a: regPreds, ashape: [n, 1], b: regTargets, bshape: [n], squeeze: true },
  reg2: { kind: 'mse', a: mlLogits, ashape: [n, C], b: randn(11, n * C), bshape: [n, C], squeeze: false },
  qa: { kind: 'qa', s: qaStart, e: qaEnd, shape: [n, L], sp: qaStartPos, ep: qaEndPos },
  f16: { kind: 'f16', x: seqLogits },
  f16ce: { kind: 'ce', logits: [] as number[], shape: [n, C], labels: seqLabels },
};
// float16 logits: the reference widens the same half values.
const f16Tensor = Tensor.from('float16', [n, C], seqLogits);
cases.f16ce.logits = Array.from({ length: n * C }, (_, i) => f16Tensor.at(i));

const ref = JSON.parse(execFileSync(pythonWith(['numpy']), ['-c', REF_PY], { input: JSON.stringify(cases), encoding: 'utf8' })) as Record<
  string,
  number & number[]
>;

test('cross-entropy for sequence classification matches NumPy', () => {
  const got = crossEntropy(Tensor.from('float32', [n, C], seqLogits), Tensor.from('int64', [n], seqLabels));
  assertRel(got, ref.seq, 'CE [n, C]');
  assert.equal(got, Math.fround(got), 'the loss is a float32 value');
});

test('cross-entropy for token classification skips -100 labels, as torch does', () => {
  const got = crossEntropy(Tensor.from('float32', [n, L, C], tokLogits), Tensor.from('int64', [n, L], tokLabels));
  assertRel(got, ref.tok, 'CE [n, L, C] with ignore');
  // Changing an ignored label's logits cannot change the loss.
  const changed = [...tokLogits];
  for (let c = 0; c < C; c++) changed[c] += 10; // position 0 is ignored (0 % 3 === 0)
  assert.equal(crossEntropy(Tensor.from('float32', [n, L, C], changed), Tensor.from('int64', [n, L], tokLabels)), got);
});

test('cross-entropy over only ignored labels is NaN (torch: 0/0)', () => {
  const got = crossEntropy(Tensor.from('float32', [2, 3], [1, 2, 3, 4, 5, 6]), Tensor.from('int64', [2], [-100, -100]));
  assert.ok(Number.isNaN(got));
});

test('cross-entropy by hand: uniform logits give log(C)', () => {
  // All-equal logits: softmax is 1/C for every class, so the loss is log(C) whatever the label.
  const got = crossEntropy(Tensor.from('float32', [3, 4], Array(12).fill(0.25)), Tensor.from('int64', [3], [0, 3, 1]));
  assert.equal(got, Math.fround(Math.log(4)));
});

test('cross-entropy widens float16 logits', () => {
  assert.deepEqual(ref.f16, cases.f16ce.logits, 'our float16 rounding agrees with NumPy astype(float16)');
  const got = crossEntropy(f16Tensor, Tensor.from('int64', [n], seqLabels));
  assertRel(got, ref.f16ce, 'CE float16');
});

test('cross-entropy rejects a label outside the classes with a clear error', () => {
  assert.throws(
    () => crossEntropy(Tensor.from('float32', [2, 3], [0, 0, 0, 0, 0, 0]), Tensor.from('int64', [2], [1, 3])),
    (e: unknown) => isEvalpredError(e) && /label 3 at position 1/.test((e as Error).message) && /3 classes/.test((e as Error).message),
  );
  assert.throws(
    () => crossEntropy(Tensor.from('float32', [2, 3], [0, 0, 0, 0, 0, 0]), Tensor.from('int64', [3], [1, 1, 1])),
    (e: unknown) => isEvalpredError(e) && /do not line up/.test((e as Error).message),
  );
});

test('BCE-with-logits (multi-label) matches NumPy, including large |x|', () => {
  const got = bceWithLogits(Tensor.from('float32', [n, C], mlLogits), Tensor.from('float32', [n, C], mlTargets));
  assertRel(got, ref.ml, 'BCE');
  // By hand: x = 100, y = 1 -> log1p(exp(-100)) ~ 3.7e-44, x = -100, y = 0 -> same; the stable form never overflows.
  const big = bceWithLogits(Tensor.from('float32', [2], [100, -100]), Tensor.from('float32', [2], [1, 0]));
  assert.ok(big >= 0 && big < 1e-40, `stable BCE: ${big}`);
});

test('MSE squeezes [n, 1] predictions against [n] labels (regression head)', () => {
  const got = mse(Tensor.from('float32', [n, 1], regPreds), Tensor.from('float32', [n], regTargets), { squeeze: true });
  assertRel(got, ref.reg, 'MSE squeezed');
  const got2 = mse(Tensor.from('float32', [n, C], mlLogits), Tensor.from('float32', [n, C], cases.reg2.b));
  assertRel(got2, ref.reg2, 'MSE [n, C]');
  // Without squeeze, [n, 1] vs [n] broadcasts to [n, n] as torch does (the pitfall the squeeze avoids).
  // By hand: preds [[1], [2]], labels [0, 1] -> diffs [[1, 0], [2, 1]] -> mean of squares 6/4.
  assert.equal(mse(Tensor.from('float32', [2, 1], [1, 2]), Tensor.from('float32', [2], [0, 1])), 1.5);
});

test('QA loss clamps positions to [0, L] and ignores L, then averages start and end', () => {
  const got = qaLoss(
    Tensor.from('float32', [n, L], qaStart),
    Tensor.from('float32', [n, L], qaEnd),
    Tensor.from('int64', [n], qaStartPos),
    Tensor.from('int64', [n, 1], qaEndPos),
  );
  assertRel(got, ref.qa, 'QA loss');
  // -100 is clamped to position 0, not ignored: moving logit 0 of that row changes the loss.
  const moved = [...qaStart];
  moved[2 * L] += 1; // row 2 has start position -100
  const got2 = qaLoss(Tensor.from('float32', [n, L], moved), Tensor.from('float32', [n, L], qaEnd), Tensor.from('int64', [n], qaStartPos), Tensor.from('int64', [n], qaEndPos));
  assert.notEqual(got2, got);
});

test('a causal LM\'s shifted cross-entropy, read in place, equals crossEntropy over the shifted copy bit for bit (float32 and float16 logits, -100s, a bad label named)', () => {
  const [n, L, V] = [3, 7, 11];
  // labels may be wider than the logits' positions: only the first L of each row are read (t + 1 <= L - 1)
  const W = L;
  const labelValues = ints(5, n * W, 0, V).map((y, i) => (i % 5 === 2 || i % W === 0 ? -100 : y));
  const labels = Tensor.from('int64', [n, W], labelValues);
  for (const dtype of ['float32', 'float16'] as const) {
    const logits = Tensor.from(dtype, [n, L, V], randn(9, n * L * V));
    // What shiftedCrossEntropy built before reading in place: logits[:, :-1, :] and labels[:, 1:], copied.
    const xs: number[] = [];
    const ys: number[] = [];
    for (let r = 0; r < n; r++) {
      for (let t = 0; t < L - 1; t++) {
        for (let c = 0; c < V; c++) xs.push(logits.at((r * L + t) * V + c));
        ys.push(labelValues[r * W + t + 1]);
      }
    }
    const copied = crossEntropy(Tensor.from('float32', [n * (L - 1), V], xs), Tensor.from('int64', [n * (L - 1)], ys));
    assert.ok(Number.isFinite(copied));
    assert.equal(shiftedCrossEntropy(logits, labels), copied, dtype);
  }
  assert.ok(Number.isNaN(shiftedCrossEntropy(Tensor.from('float32', [2, 1, V], randn(3, 2 * V)), Tensor.from('int64', [2, 1], [1, 2]))), 'one position: nothing to predict');
  const bad = Tensor.from('int64', [n, W], labelValues.map((y, i) => (i === W + 3 ? V : y)));
  assert.throws(() => shiftedCrossEntropy(Tensor.from('float32', [n, L, V], randn(9, n * L * V)), bad), (e: unknown) => isEvalpredError(e) && /label 11 at position 8 of label_ids is outside the model's 11 classes/.test((e as Error).message));
});
