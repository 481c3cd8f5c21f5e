// The built-in metric library against its references: scikit-learn / scipy (Debian's, via runPython) on
// seeded random data, the official SQuAD v1.1 normalize_answer run in Python, and hand-worked examples
// (reasoned out in comments) for seqeval, sacrebleu and rouge_score, which are not installed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPython } from '../helpers/python';
import { Tensor } from '../../src/core/tensor/tensor';
import { userErrorOf } from '../helpers/errors';
import {
  accuracy,
  bleu,
  bleuStats,
  confusionMatrix,
  f1,
  matthewsCorrcoef,
  normalizeAnswer,
  pearson,
  perplexity,
  precision,
  precisionRecallF1,
  rankAverage,
  recall,
  rouge,
  rougeTokenize,
  seqevalScores,
  spearman,
  squad,
  squadExactMatch,
  squadF1,
  tokenize13a,
} from '../../src/core/metrics/library';

const close = (actual: number, expected: number, tol = 1e-12, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);
const closeAll = (actual: number[], expected: number[], what: string) =>
  actual.forEach((a, i) => close(a, expected[i], 1e-12, `${what}[${i}]`));
const prfList = (r: { precision: number; recall: number; f1: number }) => [r.precision, r.recall, r.f1];


// sklearn/scipy references, computed once (one interpreter start) on seeded data.
const SKLEARN_REF = String.raw`
import json, warnings
import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, matthews_corrcoef, confusion_matrix
from scipy.stats import pearsonr, spearmanr, rankdata
warnings.simplefilter('ignore')
out = {}
def prf(t, p, **kw):
    r = precision_recall_fscore_support(t, p, **kw)
    return [float(r[0]), float(r[1]), float(r[2])]
rs = np.random.RandomState(0)
bt = rs.randint(0, 2, 200); bp = rs.randint(0, 2, 200)
out['binary'] = dict(t=bt.tolist(), p=bp.tolist(), acc=accuracy_score(bt, bp),
    binary=prf(bt, bp, average='binary'), pos0=prf(bt, bp, average='binary', pos_label=0),
    micro=prf(bt, bp, average='micro'), macro=prf(bt, bp, average='macro'), weighted=prf(bt, bp, average='weighted'),
    mcc=matthews_corrcoef(bt, bp), cm=confusion_matrix(bt, bp).tolist())
rs = np.random.RandomState(1)
mt = rs.randint(0, 5, 300); mp = rs.randint(0, 4, 300)  # class 4 is never predicted
out['multi'] = dict(t=mt.tolist(), p=mp.tolist(), acc=accuracy_score(mt, mp),
    micro=prf(mt, mp, average='micro'), macro=prf(mt, mp, average='macro'), weighted=prf(mt, mp, average='weighted'),
    macro_zd1=prf(mt, mp, average='macro', zero_division=1),
    sub_micro=prf(mt, mp, average='micro', labels=[1, 3]), sub_macro=prf(mt, mp, average='macro', labels=[1, 3]),
    absent_macro=prf(mt, mp, average='macro', labels=[0, 1, 7]), absent_weighted=prf(mt, mp, average='weighted', labels=[0, 1, 7]),
    only_absent_weighted=prf(mt, mp, average='weighted', labels=[7]),
    mcc=matthews_corrcoef(mt, mp), cm=confusion_matrix(mt, mp, labels=list(range(6))).tolist())
z = [0] * 10
out['one'] = dict(binary=prf(z, z, average='binary'), binary_zd1=prf(z, z, average='binary', zero_division=1),
    macro=prf(z, z, average='macro'), weighted_zd1=prf(z, z, average='weighted', zero_division=1, labels=[1]),
    mcc=matthews_corrcoef(z, z), acc=accuracy_score(z, z))
rs = np.random.RandomState(2)
x = rs.normal(size=60); y = 0.6 * x + rs.normal(size=60)
xi = rs.randint(0, 6, 60).astype(float); yi = xi + rs.randint(0, 4, 60)  # many ties
out['corr'] = dict(x=x.tolist(), y=y.tolist(), xi=xi.tolist(), yi=yi.tolist(),
    pearson=float(pearsonr(x, y)[0]), spearman=float(spearmanr(x, y)[0]),
    pearson_ties=float(pearsonr(xi, yi)[0]), spearman_ties=float(spearmanr(xi, yi)[0]),
    ranks_ties=rankdata(xi).tolist())
print(json.dumps(out))
`;

interface Ref {
  binary: { t: number[]; p: number[]; acc: number; binary: number[]; pos0: number[]; micro: number[]; macro: number[]; weighted: number[]; mcc: number; cm: number[][] };
  multi: {
    t: number[];
    p: number[];
    acc: number;
    micro: number[];
    macro: number[];
    weighted: number[];
    macro_zd1: number[];
    sub_micro: number[];
    sub_macro: number[];
    absent_macro: number[];
    absent_weighted: number[];
    only_absent_weighted: number[];
    mcc: number;
    cm: number[][];
  };
  one: { binary: number[]; binary_zd1: number[]; macro: number[]; weighted_zd1: number[]; mcc: number; acc: number };
  corr: { x: number[]; y: number[]; xi: number[]; yi: number[]; pearson: number; spearman: number; pearson_ties: number; spearman_ties: number; ranks_ties: number[] };
}
let refCache: Ref | undefined;
const ref = (): Ref => (refCache ??= JSON.parse(runPython(SKLEARN_REF, ['numpy', 'sklearn', 'scipy'])) as Ref);

// First in the file: the library warns once per distinct message per process, as Python's default filter does.
test('an ill-defined precision emits an UndefinedMetricWarning', async () => {
  const seen: string[] = [];
  const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  // Labels hold class 1 but nothing is predicted as 1: precision 0/0 -> 0, recall 0/2 = 0.
  assert.equal(precision([0, 0, 0], [1, 1, 0]), 0);
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.ok(seen.some((s) => /UndefinedMetricWarning: Precision is ill-defined/.test(s)), seen.join('\n'));
});

test('binary classification metrics match scikit-learn', () => {
  const r = ref().binary;
  // Feed int64 tensors (as a Trainer cache holds them) for preds and a plain array for labels.
  const p = Tensor.from('int64', [r.p.length], r.p);
  close(accuracy(p, r.t), r.acc, 1e-15, 'accuracy');
  closeAll(prfList(precisionRecallF1(p, r.t)), r.binary, 'binary');
  closeAll(prfList(precisionRecallF1(p, r.t, { average: 'binary', posLabel: 0 })), r.pos0, 'posLabel 0');
  closeAll(prfList(precisionRecallF1(p, r.t, { average: 'micro' })), r.micro, 'micro');
  closeAll(prfList(precisionRecallF1(p, r.t, { average: 'macro' })), r.macro, 'macro');
  closeAll(prfList(precisionRecallF1(p, r.t, { average: 'weighted' })), r.weighted, 'weighted');
  close(precision(r.p, r.t), r.binary[0], 1e-15, 'precision shorthand');
  close(recall(r.p, r.t), r.binary[1], 1e-15, 'recall shorthand');
  close(f1(r.p, r.t), r.binary[2], 1e-15, 'f1 shorthand');
  close(matthewsCorrcoef(p, r.t), r.mcc, 1e-12, 'mcc');
  assert.deepEqual(confusionMatrix(p, r.t), r.cm);
});

test('multiclass metrics match scikit-learn, incl. label subsets, absent classes and zero_division', () => {
  const r = ref().multi;
  const p = Int32Array.from(r.p);
  const t = r.t.map(BigInt); // bigint labels are accepted too
  close(accuracy(p, t), r.acc, 1e-15, 'accuracy');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'micro' })), r.micro, 'micro');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'macro' })), r.macro, 'macro');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'weighted' })), r.weighted, 'weighted');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'macro', zeroDivision: 1 })), r.macro_zd1, 'macro zero_division=1');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'micro', labels: [1, 3] })), r.sub_micro, 'micro labels=[1,3]');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'macro', labels: [1, 3] })), r.sub_macro, 'macro labels=[1,3]');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'macro', labels: [0, 1, 7] })), r.absent_macro, 'macro with absent 7');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'weighted', labels: [0, 1, 7] })), r.absent_weighted, 'weighted with absent 7');
  closeAll(prfList(precisionRecallF1(p, t, { average: 'weighted', labels: [7] })), r.only_absent_weighted, 'weighted only absent');
  close(matthewsCorrcoef(p, t), r.mcc, 1e-12, 'mcc');
  assert.deepEqual(confusionMatrix(p, t, { numClasses: 6 }), r.cm);
});

test('all one class: zero division gives 0 (or zeroDivision), MCC 0, as scikit-learn', () => {
  const r = ref().one;
  const z = new Array(10).fill(0);
  closeAll(prfList(precisionRecallF1(z, z)), r.binary, 'binary');
  closeAll(prfList(precisionRecallF1(z, z, { zeroDivision: 1 })), r.binary_zd1, 'binary zd=1');
  closeAll(prfList(precisionRecallF1(z, z, { average: 'macro' })), r.macro, 'macro');
  closeAll(prfList(precisionRecallF1(z, z, { average: 'weighted', labels: [1], zeroDivision: 1 })), r.weighted_zd1, 'weighted zd=1');
  close(matthewsCorrcoef(z, z), r.mcc, 0, 'mcc');
  close(accuracy(z, z), r.acc, 0, 'accuracy');
  // And the hand-derived values the references should equal: nothing predicted positive, nothing positive.
  assert.deepEqual(prfList(precisionRecallF1(z, z)), [0, 0, 0]);
  assert.deepEqual(prfList(precisionRecallF1(z, z, { zeroDivision: 1 })), [1, 1, 1]);
});

test('accuracy with ignoreIndex and confusion matrix, worked by hand', () => {
  // Position 1 is ignored (-100); of the other three, positions 0 and 2 match: 2/3.
  close(accuracy([1, 2, 3, 4], [1, -100, 3, 0], { ignoreIndex: -100 }), 2 / 3, 1e-15, 'ignoreIndex');
  // 2-D token tensors are flattened: rows [1,1] vs [1,0] and [0,-100] vs [0,-100] -> 2 of 3 kept positions match.
  const preds2d = Tensor.from('int64', [2, 2], [1, 1, 0, 5]);
  const labels2d = Tensor.from('int64', [2, 2], [1, 0, 0, -100]);
  close(accuracy(preds2d, labels2d, { ignoreIndex: -100 }), 2 / 3, 1e-15, '2-D');
  // true 0 predicted 1 once, true 2 predicted 2 once; class 1 never a label -> row 1 all zero.
  assert.deepEqual(confusionMatrix([1, 2], [0, 2]), [
    [0, 1, 0],
    [0, 0, 0],
    [0, 0, 1],
  ]);
  userErrorOf(() => confusionMatrix([0, 3], [0, 1], { numClasses: 3 }), /preds\[1\] is 3, outside the class ids 0\.\.2/);
  // A tensor from another bundle's Tensor class is read through shape/size/at, not instanceof.
  const foreign = { shape: [3], size: 3, at: (i: number) => [2, 0, 1][i] };
  close(accuracy(foreign, [2, 1, 1]), 2 / 3, 1e-15, 'tensor-like');
  // Nested plain arrays flatten in C order: [[1, 0], [1, 1]] vs [1, 0, 0, 1] -> 3 of 4.
  close(accuracy([[1, 0], [1, 1]], [1, 0, 0, 1]), 3 / 4, 1e-15, 'nested');
});

test('classification input errors are clear', () => {
  assert.ok(Number.isNaN(accuracy([], [])), 'empty input: NaN as sklearn (test/unit/metricsFidelity.test.ts checks the rest)');
  userErrorOf(() => accuracy([0, 1], [0, 1, 1]), /same number of elements/);
  // Logits [2, 3] against 2 labels: the message points at argmax.
  const logits = Tensor.from('float32', [2, 3], [0.1, 0.5, 0.4, 0.9, 0.05, 0.05]);
  userErrorOf(() => f1(logits, [1, 0]), /shape \[2, 3\].*argmax/);
  userErrorOf(() => f1([0.2, 0.8], [0, 1]), /preds\[0\] is 0\.2, not an integer class id/);
  userErrorOf(() => f1([0, 1, 2], [0, 1, 2]), /3 classes .*average is 'binary'/);
  userErrorOf(() => f1([2, 3], [3, 2]), /posLabel=1 is not a valid label.*\[2, 3\]/);
  userErrorOf(() => f1([0, 1], [0, 1], { average: 'mean' as never }), /average must be one of/);
  userErrorOf(() => f1([0, 1], [0, 1], { average: 'samples' }), /average 'samples' is for multilabel indicator input only/);
  userErrorOf(() => accuracy([1, 1], [-100, -100], { ignoreIndex: -100 }), /nothing to score/);
  userErrorOf(() => accuracy('01' as never, [0, 1]), /got a string/);
});

test('pearson and spearman match scipy (ties get average ranks)', () => {
  const r = ref().corr;
  close(pearson(r.x, r.y), r.pearson, 1e-12, 'pearson');
  close(spearman(r.x, r.y), r.spearman, 1e-12, 'spearman');
  close(pearson(Float64Array.from(r.xi), r.yi), r.pearson_ties, 1e-12, 'pearson ties');
  close(spearman(r.xi, Tensor.from('float64', [r.yi.length], r.yi)), r.spearman_ties, 1e-12, 'spearman ties');
  assert.deepEqual([...rankAverage(r.xi)], r.ranks_ties);
  // By hand: ranks of [10, 20, 20, 30] are 1, (2+3)/2, (2+3)/2, 4.
  assert.deepEqual([...rankAverage([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
  // A perfectly monotone but non-linear relation: spearman 1, pearson < 1.
  close(spearman([1, 2, 3, 4], [1, 4, 9, 100]), 1, 1e-15, 'monotone');
  assert.ok(pearson([1, 2, 3, 4], [1, 4, 9, 100]) < 0.99);
  // Constant input: scipy returns nan.
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  userErrorOf(() => pearson([1], [2]), /at least 2/);
});

test('perplexity is exp(mean loss)', () => {
  // mean(1, 2, 3) = 2 -> e^2.
  close(perplexity([1, 2, 3]), Math.exp(2), 1e-12, 'plain');
  // mean(ln 2, ln 8) = ln 4 -> 4 (float32 storage: small tolerance).
  close(perplexity(Tensor.from('float32', [2], [Math.log(2), Math.log(8)])), 4, 1e-6, 'tensor');
  userErrorOf(() => perplexity([]), /losses is empty/);
});

// The official SQuAD v1.1 evaluate script's functions, verbatim in behaviour, as the reference.
const SQUAD_REF = String.raw`
import json, re, string
from collections import Counter
def normalize_answer(s):
    def remove_articles(text): return re.sub(r'\b(a|an|the)\b', ' ', text)
    def white_space_fix(text): return ' '.join(text.split())
    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)
    return white_space_fix(remove_articles(remove_punc(s.lower())))
def f1_score(prediction, ground_truth):
    p = normalize_answer(prediction).split(); g = normalize_answer(ground_truth).split()
    common = Counter(p) & Counter(g); num_same = sum(common.values())
    if num_same == 0: return 0
    precision = 1.0 * num_same / len(p); recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)
cases = CASES  # a JSON list of [prediction, [references]] is also a Python literal
print(json.dumps([[normalize_answer(p), max(f1_score(p, g) for g in gs), max(float(normalize_answer(p) == normalize_answer(g)) for g in gs)] for p, gs in cases]))
`;

test('SQuAD v1.1 matches the official script', () => {
  const cases: [string, string[]][] = [
    ['The Cat sat.', ['cat sat']],
    ['a big dog', ['the dog', 'small dog']],
    ['  Théâtre   de la Ville!! ', ['théâtre de la ville']],
    ['thé a an the theory anthem ané théa', ['theory']],
    ['Denver Broncos', ['Denver Broncos', 'The Denver Broncos', 'Carolina']],
    ['1,000 (approx.)', ['1000 approx']],
    ['', ['something']],
    ['ΣΊΣΥΦΟΣ and_the rest', ['σίσυφος']],
  ];
  const out = JSON.parse(runPython(SQUAD_REF.replace('CASES', JSON.stringify(cases)), [])) as [string, number, number][];
  cases.forEach(([p, refs], i) => {
    assert.equal(normalizeAnswer(p), out[i][0], `normalize case ${i}`);
    close(squadF1(p, refs), out[i][1], 1e-15, `f1 case ${i}`);
    assert.equal(squadExactMatch(p, refs), out[i][2], `em case ${i}`);
  });
});

test('SQuAD worked examples and errors', () => {
  // "The Cat sat." -> lower, drop '.', drop "the" -> "cat sat": exact match with "cat sat".
  assert.equal(squadExactMatch('The Cat sat.', 'cat sat'), 1);
  // "a big dog" -> "big dog". Against "dog": 1 common token, P = 1/2, R = 1 -> F1 = 2/3.
  // Against "small dog": P = R = 1/2 -> 1/2. Max over references = 2/3.
  close(squadF1('a big dog', ['the dog', 'small dog']), 2 / 3, 1e-15, 'f1');
  // Corpus: EM = (1 + 0) / 2 = 50%, F1 = (1 + 2/3) / 2 = 83.33%.
  const s = squad(['The Cat sat.', 'a big dog'], [['cat sat'], ['the dog', 'small dog']]);
  close(s.exact_match, 50, 1e-12, 'em');
  close(s.f1, (100 * (1 + 2 / 3)) / 2, 1e-12, 'f1');
  // Python's \b is Unicode-aware: in "ané" and "théa" the article letters touch a letter (é), so they stay;
  // "theory" keeps its "the" too.
  assert.equal(normalizeAnswer('ané a an the theory théa'), 'ané theory théa');
  userErrorOf(() => squad(['x'], []), /1 answers but references has 0/);
  userErrorOf(() => squad([], []), /empty/);
  userErrorOf(() => squad(['x'], [[]]), /references\[0\] holds no reference answers/);
  userErrorOf(() => squad([3 as never], [['3']]), /predictions\[0\] is number/);
});

test('seqeval: the HF example, worked by hand', () => {
  const predictions = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const references = [
    ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  // Predicted entities: MISC tokens 2..5, PER 0..1 (sentence 2). Gold: MISC 3..5, PER 0..1.
  // MISC spans differ -> MISC P = R = F1 = 0 (1 gold); PER matches -> 1/1/1 (1 gold).
  // Overall: 1 of 2 predicted correct, 1 of 2 gold found -> 0.5 each.
  // Accuracy per tag: sentence 1 differs at positions 2 and 3 -> 5/7, sentence 2 3/3 -> 8/10.
  const s = seqevalScores(predictions, references, { scheme: 'IOB2' });
  assert.deepEqual(
    { p: s.precision, r: s.recall, f: s.f1, a: s.accuracy },
    { p: 0.5, r: 0.5, f: 0.5, a: 0.8 },
  );
  assert.deepEqual(Object.keys(s.perType), ['MISC', 'PER']);
  assert.deepEqual(s.perType.MISC, { precision: 0, recall: 0, f1: 0, number: 1 });
  assert.deepEqual(s.perType.PER, { precision: 1, recall: 1, f1: 1, number: 1 });
});

test('seqeval chunking: I- without B-, type changes, sentence boundaries, no predictions', () => {
  // I-PER I-PER starts a chunk at the first I (conlleval): PER 0..1, same as gold B-PER I-PER.
  let s = seqevalScores([['I-PER', 'I-PER', 'O']], [['B-PER', 'I-PER', 'O']]);
  assert.deepEqual([s.precision, s.recall, s.f1], [1, 1, 1]);
  close(s.accuracy, 2 / 3, 1e-15, 'accuracy');
  // B-PER I-LOC: the type change ends PER at 0 and starts LOC at 1 -> pred {PER 0..0, LOC 1..1}.
  // Gold B-PER I-PER is PER 0..1: no match; 2 predicted, 1 gold -> P = 0, R = 0.
  s = seqevalScores([['B-PER', 'I-LOC']], [['B-PER', 'I-PER']]);
  assert.deepEqual(Object.keys(s.perType), ['LOC', 'PER']);
  assert.equal(s.perType.LOC.number, 0);
  assert.deepEqual([s.precision, s.recall], [0, 0]);
  // Against gold B-PER B-LOC (PER 0..0, LOC 1..1) the same prediction then finds both entities.
  s = seqevalScores([['B-PER', 'I-LOC']], [['B-PER', 'B-LOC']]);
  assert.deepEqual([s.precision, s.recall, s.perType.PER.f1, s.perType.LOC.f1], [1, 1, 1, 1]);
  // An entity never spans two sentences: [B-PER] + [I-PER] is two PER entities, each matching gold.
  s = seqevalScores([['B-PER'], ['I-PER']], [['B-PER'], ['B-PER']]);
  assert.deepEqual([s.precision, s.recall, s.perType.PER.number], [1, 1, 2]);
  // Nothing predicted: precision 0/0 -> 0 (zero division), recall 0/1 = 0, F1 0.
  s = seqevalScores([['O', 'O']], [['B-ORG', 'O']]);
  assert.deepEqual([s.precision, s.recall, s.f1, s.accuracy], [0, 0, 0, 0.5]);
  // Suffix tags (PER-B PER-I) chunk the same way.
  s = seqevalScores([['PER-B', 'PER-I', 'O']], [['PER-B', 'PER-I', 'O']], { suffix: true });
  assert.deepEqual([s.f1, s.perType.PER.number], [1, 1]);
});

test('seqeval input errors name the sequence', () => {
  userErrorOf(() => seqevalScores([['O']], [['O'], ['O']]), /1 sequences but goldTags has 2/);
  userErrorOf(() => seqevalScores([['O', 'O'], ['O']], [['O', 'O'], ['O', 'B-X']]), /sequence 1 has 1 predicted tags but 2 gold tags/);
  userErrorOf(() => seqevalScores([[]], [[]]), /no tags/);
  userErrorOf(() => seqevalScores([['O', '']], [['O', 'O']]), /predTags\[0\]\[1\] is "": tags must be non-empty/);
});

test('13a tokenizer, worked by hand', () => {
  // '!' is split off (rule 1); ',' after a letter and '.' before a space are split (rules 2/3);
  // "3.5" keeps its decimal point (digit on both sides); '-' after a digit is split (rule 4);
  // the apostrophe is not in the punctuation ranges, so "It's" stays whole.
  assert.equal(tokenize13a("Hello, world! It's 3.5-4."), "Hello , world ! It's 3.5 - 4 .");
  // &quot; is unescaped before splitting; <skipped> is deleted.
  assert.equal(tokenize13a('say &quot;hi&quot;<skipped>'), 'say " hi "');
});

test('BLEU matches sacrebleu defaults, worked by hand', () => {
  // Identical sentences: every precision 100, BP 1 -> 100.
  close(bleu(['the cat sat on the mat'], [['the cat sat on the mat']]), 100, 1e-9, 'identical');
  // "the cat sat on a mat" vs "the cat sat on the mat" (6 tokens each, BP 1):
  // 1-grams 5/6 (a misses), 2-grams 3/5 (the cat, cat sat, sat on), 3-grams 2/4, 4-grams 1/3.
  // BLEU = 100 * (5/6 * 3/5 * 2/4 * 1/3)^(1/4) = 100 * (1/12)^(1/4).
  close(bleu(['the cat sat on a mat'], [['the cat sat on the mat']]), 100 * (1 / 12) ** 0.25, 1e-9, 'one sentence');
  // "the cat the dog" (4) vs "the cat and the dog" (5): 1-grams 4/4, 2-grams 2/3, 3-grams 0/2, 4-grams 0/1.
  // exp smoothing: 1st zero order -> 100/(2*2) = 25, 2nd -> 100/(4*1) = 25. BP = exp(1 - 5/4).
  const hyp = ['the cat the dog'];
  const refs = [['the cat and the dog']];
  const expSmoothed = Math.exp(-0.25) * (100 * (200 / 3) * 25 * 25) ** 0.25;
  close(bleu(hyp, refs), expSmoothed, 1e-9, 'exp smoothing');
  const st = bleuStats(hyp, refs);
  assert.deepEqual([st.counts, st.totals, st.sysLen, st.refLen], [[4, 2, 0, 0], [4, 3, 2, 1], 4, 5]);
  // No smoothing: a zero precision makes sacrebleu's log(0) = -9999999999 -> score 0.
  close(bleu(hyp, refs, { smoothMethod: 'none' }), 0, 1e-300, 'none');
  // floor 0.1: 100*0.1/2 = 5 and 100*0.1/1 = 10.
  close(bleu(hyp, refs, { smoothMethod: 'floor' }), Math.exp(-0.25) * (100 * (200 / 3) * 5 * 10) ** 0.25, 1e-9, 'floor');
  // Corpus statistics are summed, not averaged: counts 9/10, 5/8, 2/6, 1/4; sys 10, ref 6 + 5 = 11.
  const corpus = bleu(['the cat sat on a mat', 'the cat the dog'], [['the cat sat on the mat'], ['the cat and the dog']]);
  close(corpus, Math.exp(1 - 11 / 10) * (90 * 62.5 * (100 / 3) * 25) ** 0.25, 1e-9, 'corpus');
  // Closest reference length ties (4 and 6 around 5) pick the shorter: BP 1, all n-grams in ref 2 -> 100.
  close(bleu(['a b c d e'], [['a b c d', 'a b c d e f']]), 100, 1e-9, 'tie');
  // Case-sensitive by default; lowercase option folds it.
  assert.ok(bleu(['The cat sat on the mat'], [['the cat sat on the mat']]) < 100);
  close(bleu(['The cat sat on the mat'], [['the cat sat on the mat']], { lowercase: true }), 100, 1e-9, 'lowercase');
  // A hypothesis shorter than 4 tokens in a one-sentence corpus: no 4-grams -> that order's precision stays 0 -> 0.
  close(bleu(['the cat sat'], [['the cat sat on the mat']]), 0, 1e-300, 'short');
  // Nothing matches: 0, and BP of an empty hypothesis is 0.
  assert.equal(bleu([''], [['x y']]), 0);
  userErrorOf(() => bleu([], []), /empty/);
  userErrorOf(() => bleu(['a'], [[]]), /references\[0\] is empty/);
  userErrorOf(() => bleu(['a', 'b'], [['a']]), /2 sentences but references has 1/);
});

test('ROUGE as rouge_score computes it by default, worked by hand', () => {
  // Lowercased, runs of non [a-z0-9] become spaces: "naïve" -> "na ve", "café" -> "caf".
  assert.deepEqual(rougeTokenize('Hello, WORLD—naïve café 42'), ['hello', 'world', 'na', 've', 'caf', '42']);
  // pred "the cat sat on the mat" vs ref "the cat is on the mat":
  // ROUGE-1 overlap the x2, cat, on, mat = 5 of 6 each side -> F 5/6.
  // ROUGE-2 overlap {the cat, on the, the mat} = 3 of 5 -> F 3/5. LCS "the cat on the mat" = 5 -> F 5/6.
  const one = rouge(['The cat sat on the mat.'], ['The cat is on the mat!']);
  close(one.rouge1, 5 / 6, 1e-15, 'rouge1');
  close(one.rouge2, 3 / 5, 1e-15, 'rouge2');
  close(one.rougeL, 5 / 6, 1e-15, 'rougeL');
  // LCS differs from bag overlap when order differs: "b a" vs "a b": ROUGE-1 1, ROUGE-2 0, LCS 1 of 2 -> 0.5.
  const swapped = rouge(['b a'], ['a b']);
  assert.deepEqual([swapped.rouge1, swapped.rouge2, swapped.rougeL], [1, 0, 0.5]);
  // Averaged over pairs; an empty prediction scores 0 everywhere.
  const avg = rouge(['The cat sat on the mat.', ''], ['The cat is on the mat!', 'anything']);
  close(avg.rouge1, 5 / 12, 1e-15, 'avg rouge1');
  close(avg.rouge2, 3 / 10, 1e-15, 'avg rouge2');
  close(avg.rougeL, 5 / 12, 1e-15, 'avg rougeL');
  userErrorOf(() => rouge([], []), /empty/);
  userErrorOf(() => rouge(['a'], ['a', 'b']), /one reference per prediction/);
});
