// The built-in metric library where it follows what users of Trainer's examples compute with their own
// libraries: rouge_score with use_stemmer and rougeLsum, NLTK's Porter stemmer, seqeval's strict mode and
// averages, scikit-learn's multilabel inputs / sample_weight / fbeta / confusion-matrix options, sacrebleu's
// tokenizers and sufficient statistics. Expected values come from the libraries' own test cases and
// published examples (cited per test), from scikit-learn run live (Debian's, via /usr/bin/python3), or from
// vendored outputs of the real library (test/fixtures/reference/, each file says how it was produced).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { porterStem } from '../../src/core/metrics/library/porterStemmer';
import {
  bleu, bleuFromStats, bleuStats, bleuSufficientStats, sentenceBleu, tokenizeChar, tokenizeIntl, type BleuTokenize,
  accuracy, confusionMatrix, f1, fbeta, matthewsCorrcoef, precision, precisionRecallFbeta, rouge, seqevalScores, strictEntities, type SeqevalScheme, rougeLsum, rougeN, rougeLcs, rougeTokenize, summaryLevelLcs,
} from '../../src/core/metrics/library';
import { runPython } from '../helpers/python';

const REF_DIR = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'reference');
const readRef = (name: string) => JSON.parse(fs.readFileSync(path.join(REF_DIR, name), 'utf8'));
/** assertAlmostEqual(expected, actual, places) as in the Python test suites. */
const almost = (actual: number, expected: number, places = 7, what = '') =>
  assert.ok(Math.round(Math.abs(actual - expected) * 10 ** places) === 0, `${what}: expected ${expected}, got ${actual} (${places} places)`);

test("porterStem equals NLTK's PorterStemmer() (the mode rouge_score uses) on 2686 words", () => {
  const ref = readRef('porter_nltk.json');
  assert.match(ref.produced_by, /PorterStemmer\(\)\.stem/);
  const wrong = Object.entries(ref.stems as Record<string, string>).filter(([w, s]) => porterStem(w) !== s);
  assert.deepEqual(wrong.slice(0, 10).map(([w, s]) => `${w}: nltk ${s}, ours ${porterStem(w)}`), []);
  assert.ok(Object.keys(ref.stems).length > 2000);
  // NLTK_EXTENSIONS, not the original algorithm: irregular forms and 4-letter "ies"
  assert.equal(porterStem('dying'), 'die');
  assert.equal(porterStem('ties'), 'tie');
  assert.equal(porterStem('generously'), 'gener');
});

test("rouge_score's own test cases (rouge_scorer_test.py): rouge1/2/L, with and without stemming, rougeLsum", () => {
  const d = readRef('rouge_score_testdata.json');
  const score = (t: string, p: string, stem = false) => {
    const tt = rougeTokenize(t, stem);
    const pt = rougeTokenize(p, stem);
    return { rouge1: rougeN(tt, pt, 1), rouge2: rougeN(tt, pt, 2), rougeL: rougeLcs(tt, pt) };
  };
  const prf = (x: { precision: number; recall: number; fmeasure: number }) => [x.recall, x.precision, x.fmeasure];
  const check = (got: number[], want: number[], what: string) => got.forEach((g, i) => almost(g, want[i], 5, `${what}[${i}]`));
  // testRouge1 / testRouge2 / testRougeLConsecutive / testRougeLNonConsecutive
  check(prf(score('testing one two', 'testing').rouge1), [1 / 3, 1, 1 / 2], 'testRouge1');
  check(prf(score('testing one two', 'testing one').rouge2), [1 / 2, 1, 2 / 3], 'testRouge2');
  check(prf(score('testing one two', 'testing one').rougeL), [2 / 3, 1, 4 / 5], 'testRougeLConsecutive');
  check(prf(score('testing one two', 'testing two').rougeL), [2 / 3, 1, 4 / 5], 'testRougeLNonConsecutive');
  // testRouge1AgainstRouge155(/WithStemming), testRouge2..., testRougeLAgainstRouge155 (ROUGE-1.5.5 values)
  const [t0, t1] = d.targets;
  const [p0, p1] = d.predictions;
  check(prf(score(t0, p0).rouge1), [0.40741, 0.6875, 0.51163], 'rouge1 #0');
  check(prf(score(t1, p1).rouge1), [0.40476, 0.65385, 0.5], 'rouge1 #1');
  check(prf(score(t0, p0, true).rouge1), [0.40741, 0.6875, 0.51163], 'rouge1 stemmed #0');
  check(prf(score(t1, p1, true).rouge1), [0.42857, 0.69231, 0.52941], 'rouge1 stemmed #1');
  check(prf(score(t0, p0).rouge2), [0.30769, 0.53333, 0.39024], 'rouge2 #0');
  check(prf(score(t1, p1).rouge2), [0.29268, 0.48, 0.36364], 'rouge2 #1');
  check(prf(score(t0, p0, true).rouge2), [0.30769, 0.53333, 0.39024], 'rouge2 stemmed #0');
  check(prf(score(t1, p1, true).rouge2), [0.29268, 0.48, 0.36364], 'rouge2 stemmed #1');
  check(prf(score(t0, p0).rougeL), [0.40741, 0.6875, 0.51163], 'rougeL #0');
  check(prf(score(t1, p1).rougeL), [0.40476, 0.65385, 0.5], 'rougeL #1');
  // testRougeLSumAgainstRouge155WithStemming
  check(prf(rougeLsum(d.target_multi, d.prediction_multi, { useStemmer: true })), [0.36538, 0.66667, 0.47205], 'rougeLsum stemmed');
  // testSummaryLevelLcs (token ids as strings) and testRougeLsum
  const sl = summaryLevelLcs([['1', '2', '3', '4', '5']], [['1', '2', '6', '7', '8'], ['1', '3', '8', '9', '5']]);
  assert.equal(sl.recall, 0.8);
  assert.equal(sl.precision, 0.4);
  almost(sl.fmeasure, 0.5333, 3);
  assert.equal(summaryLevelLcs([['reference']], [[]]).recall, 0);
  const ls = rougeLsum('w1 w2 w3 w4 w5', 'w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5');
  check(prf(ls), [0.8, 0.4, 8 / 15], 'testRougeLsum'); // the test's 0.5333 to 3 places
  for (const [t, p] of [['w1 w2 w3 w4 w5', ''], ['', 'w1'], ['w1 w2 w3 w4 w5', '/']]) assert.deepEqual(prf(rougeLsum(t, p)), [0, 0, 0], `empty ${JSON.stringify([t, p])}`);
  // the mean over pairs: rougeLsum equals rougeL on single-line texts, and differs on several lines
  const one = rouge(['the cats were running'], ['a cat runs'], { useStemmer: true });
  assert.equal(one.rougeLsum, one.rougeL);
  almost(one.rouge1, 2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3), 12, 'stemmed: cat and run match');
  assert.equal(rouge(['the cats were running'], ['a cat runs']).rouge1, 0, 'unstemmed: nothing matches');
  // sentences in another order: the LCS of the whole text keeps 3 of 5 tokens, the summary-level LCS all 5
  const multi = rouge(['d e\na b c'], ['a b c\nd e']);
  assert.equal(multi.rougeLsum, 1);
  almost(multi.rougeL, 0.6, 12, 'rougeL');
});

// scikit-learn, run live on seeded data (Debian's python3-sklearn in /usr/bin/python3).
const SKLEARN_FIDELITY = String.raw`
import json, warnings
import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, fbeta_score, matthews_corrcoef, confusion_matrix
warnings.simplefilter('ignore')
rs = np.random.RandomState(3)
out = {}
yt = (rs.rand(40, 4) < 0.35).astype(int); yp = (rs.rand(40, 4) < 0.4).astype(int)
yt[5] = 0; yp[5] = 0; yp[7] = 0; yt[9] = 0          # empty rows: zero_division in 'samples'
w = rs.rand(40).round(3)
ct = rs.randint(0, 5, 120); cp = rs.randint(0, 5, 120); cw = rs.randint(1, 4, 120).astype(float)
out['data'] = dict(yt=yt.tolist(), yp=yp.tolist(), w=w.tolist(), ct=ct.tolist(), cp=cp.tolist(), cw=cw.tolist())
def prfs(t, p, beta=1.0, **kw):
    r = precision_recall_fscore_support(t, p, beta=beta, **kw)
    return [float(r[0]), float(r[1]), float(r[2])]
cases = []
for avg in ['micro', 'macro', 'weighted', 'samples']:
    for zd in ['warn', 0, 1]:
        for sw in [None, 'w']:
            for labels in [None, [2, 0]]:
                for beta in [1.0, 0.5, 2.0]:
                    kw = dict(average=avg, zero_division=zd, sample_weight=(w if sw else None), labels=labels)
                    cases.append(dict(kind='ml', avg=avg, zd=zd, sw=sw, labels=labels, beta=beta, want=prfs(yt, yp, beta, **kw)))
for avg in ['binary', 'micro', 'macro', 'weighted']:
    for sw in [None, 'cw']:
        t, p = (ct % 2, cp % 2) if avg == 'binary' else (ct, cp)
        for beta in [1.0, 2.0]:
            cases.append(dict(kind='mc', avg=avg, sw=sw, beta=beta, want=prfs(t, p, beta, average=avg, sample_weight=(cw if sw else None))))
out['prf'] = cases
out['fbeta_macro_2'] = float(fbeta_score(ct, cp, beta=2, average='macro'))
out['acc_ml'] = float(accuracy_score(yt, yp)); out['acc_ml_w'] = float(accuracy_score(yt, yp, sample_weight=w))
out['acc_ml_count'] = float(accuracy_score(yt, yp, normalize=False))
out['acc_mc_w'] = float(accuracy_score(ct, cp, sample_weight=cw)); out['acc_mc_wcount'] = float(accuracy_score(ct, cp, sample_weight=cw, normalize=False))
out['mcc_w'] = float(matthews_corrcoef(ct, cp, sample_weight=cw))
cms = {}
for labels in [None, [2, 0, 7, 4]]:
    for norm in [None, 'true', 'pred', 'all']:
        for sw in [None, 'cw']:
            key = f'{labels}|{norm}|{sw}'
            cms[key] = confusion_matrix(ct, cp, labels=labels, normalize=norm, sample_weight=(cw if sw else None)).astype(float).tolist()
out['cm'] = cms
out['cm_zero_row'] = confusion_matrix([0, 0, 1], [0, 1, 1], labels=[0, 1, 2], normalize='true').tolist()
e = {}
e['acc'] = accuracy_score([], [])
e['precision_binary'] = float(precision_recall_fscore_support([], [], average='binary')[0])
for avg in ['micro', 'macro', 'weighted']:
    e['f1_' + avg] = float(precision_recall_fscore_support([], [], average=avg)[2])
e['mcc'] = float(matthews_corrcoef([], []))
e['cm'] = confusion_matrix([], []).tolist()
e['cm_labels'] = confusion_matrix([], [], labels=[0, 1]).tolist()
out['empty'] = {k: (None if isinstance(v, float) and v != v else v) for k, v in e.items()}
print(json.dumps(out))
`;

test('scikit-learn, live: multilabel indicators (micro/macro/weighted/samples), sample_weight, fbeta, zero_division, labels', () => {
  const r = JSON.parse(runPython(SKLEARN_FIDELITY, ['numpy', 'sklearn']));
  const { yt, yp, w, ct, cp, cw } = r.data;
  let n = 0;
  for (const c of r.prf) {
    const [preds, labels] = c.kind === 'ml' ? [yp, yt] : c.avg === 'binary' ? [cp.map((x: number) => x % 2), ct.map((x: number) => x % 2)] : [cp, ct];
    const sampleWeight = c.sw === 'w' ? w : c.sw === 'cw' ? cw : undefined;
    const got = precisionRecallFbeta(preds, labels, c.beta, { average: c.avg, zeroDivision: c.zd ?? 'warn', sampleWeight, labels: c.labels ?? undefined });
    const what = JSON.stringify({ ...c, want: undefined });
    [got.precision, got.recall, got.fbeta].forEach((g, i) => assert.ok(Math.abs(g - c.want[i]) <= 1e-12, `${what}[${i}]: ${g} vs sklearn ${c.want[i]}`));
    n++;
  }
  assert.equal(n, 4 * 3 * 2 * 2 * 3 + 4 * 2 * 2);
  assert.ok(Math.abs(fbeta(cp, ct, 2, { average: 'macro' }) - r.fbeta_macro_2) <= 1e-12);
  assert.equal(f1(yp, yt, { average: 'macro' }), precisionRecallFbeta(yp, yt, 1, { average: 'macro' }).fbeta);
  // accuracy: subset accuracy for multilabel, weights, normalize=false
  assert.ok(Math.abs(accuracy(yp, yt) - r.acc_ml) <= 1e-12);
  assert.ok(Math.abs(accuracy(yp, yt, { sampleWeight: w }) - r.acc_ml_w) <= 1e-12);
  assert.equal(accuracy(yp, yt, { normalize: false }), r.acc_ml_count);
  assert.ok(Math.abs(accuracy(cp, ct, { sampleWeight: cw }) - r.acc_mc_w) <= 1e-12);
  assert.equal(accuracy(cp, ct, { sampleWeight: cw, normalize: false }), r.acc_mc_wcount);
  assert.ok(Math.abs(matthewsCorrcoef(cp, ct, { sampleWeight: cw }) - r.mcc_w) <= 1e-12);
  // multilabel with average 'binary' and a bad weight vector are clear errors
  assert.throws(() => f1(yp, yt), /multilabel indicator matrices but average is 'binary'/);
  assert.throws(() => f1(cp, ct, { average: 'macro', sampleWeight: [1, 2] }), /sampleWeight has 2 values but there are 120 samples/);
});

test('scikit-learn, live: confusion_matrix with labels= (order, absent classes), normalize= and sample_weight', () => {
  const r = JSON.parse(runPython(SKLEARN_FIDELITY, ['numpy', 'sklearn']));
  const { ct, cp, cw } = r.data;
  for (const [key, want] of Object.entries(r.cm as Record<string, number[][]>)) {
    const [labelsS, normS, swS] = key.split('|');
    if (labelsS === 'None') continue; // our default indexes classes 0..K-1 (documented); with labels= it is sklearn's
    const labels = JSON.parse(labelsS) as number[];
    const got = confusionMatrix(cp, ct, { labels, normalize: normS === 'None' ? undefined : (normS as 'true'), sampleWeight: swS === 'cw' ? cw : undefined });
    got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) <= 1e-12, `${key} [${i}][${j}]: ${v} vs ${want[i][j]}`)));
  }
  // all classes present here, so the default equals sklearn's too
  assert.deepEqual(confusionMatrix(cp, ct), r.cm['None|None|None']);
  assert.deepEqual(confusionMatrix([0, 1, 1], [0, 0, 1], { labels: [0, 1, 2], normalize: 'true' }), r.cm_zero_row);
  assert.throws(() => confusionMatrix([0, 1], [0, 1], { labels: [5] }), /At least one label specified must be in labels/);
});

test('scikit-learn, live: empty inputs give 0.0 / NaN / an empty matrix instead of an exception', () => {
  const e = JSON.parse(runPython(SKLEARN_FIDELITY, ['numpy', 'sklearn'])).empty;
  const same = (got: number, want: number | null, what: string) => (want === null ? assert.ok(Number.isNaN(got), `${what}: NaN`) : assert.equal(got, want, what));
  same(accuracy([], []), e.acc, 'accuracy');
  same(precision([], []), e.precision_binary, 'precision binary');
  for (const avg of ['micro', 'macro', 'weighted'] as const) same(f1([], [], { average: avg }), e[`f1_${avg}`], `f1 ${avg}`);
  same(matthewsCorrcoef([], []), e.mcc, 'mcc');
  assert.deepEqual(confusionMatrix([], []), e.cm);
  assert.deepEqual(confusionMatrix([], [], { labels: [0, 1] }), e.cm_labels);
});

// seqeval tests/test_scheme.py: entities per scheme as [type, start, end exclusive].
const SCHEME_CASES: Record<string, [string[], [string, number, number][]][]> = {
  IOB2: [
    [[], []], [['B-PER'], [['PER', 0, 1]]], [['I-PER'], []], [['O'], []], [['O', 'I-PER'], []], [['O', 'B-PER'], [['PER', 1, 2]]],
    [['I-PER', 'O'], []], [['I-PER', 'I-PER'], []], [['I-PER', 'I-ORG'], []], [['I-PER', 'B-PER'], [['PER', 1, 2]]],
    [['I-PER', 'B-ORG'], [['ORG', 1, 2]]], [['B-PER', 'O'], [['PER', 0, 1]]], [['B-PER', 'I-PER'], [['PER', 0, 2]]],
    [['B-PER', 'I-ORG'], [['PER', 0, 1]]], [['B-PER', 'B-PER'], [['PER', 0, 1], ['PER', 1, 2]]], [['B-PER', 'B-ORG'], [['PER', 0, 1], ['ORG', 1, 2]]],
    [['B'], [['_', 0, 1]]], [['B', 'I'], [['_', 0, 2]]], [['I', 'B'], [['_', 1, 2]]],
  ],
  IOE2: [
    [[], []], [['E-PER'], [['PER', 0, 1]]], [['I-PER'], []], [['O'], []], [['O', 'I-PER'], []], [['O', 'E-PER'], [['PER', 1, 2]]],
    [['I-PER', 'O'], []], [['I-PER', 'I-PER'], []], [['I-PER', 'I-ORG'], []], [['I-PER', 'E-PER'], [['PER', 0, 2]]],
    [['I-PER', 'E-ORG'], [['ORG', 1, 2]]], [['E-PER', 'O'], [['PER', 0, 1]]], [['E-PER', 'I-PER'], [['PER', 0, 1]]],
    [['E-PER', 'I-ORG'], [['PER', 0, 1]]], [['E-PER', 'E-PER'], [['PER', 0, 1], ['PER', 1, 2]]], [['E-PER', 'E-ORG'], [['PER', 0, 1], ['ORG', 1, 2]]],
    [['I', 'E'], [['_', 0, 2]]], [['E', 'I'], [['_', 0, 1]]],
  ],
  IOBES: [
    [['O'], []], [['I-PER'], []], [['B-PER'], []], [['E-PER'], []], [['S-PER'], [['PER', 0, 1]]], [['O', 'O'], []], [['O', 'I-PER'], []],
    [['O', 'B-PER'], []], [['O', 'E-PER'], []], [['O', 'S-PER'], [['PER', 1, 2]]], [['I-PER', 'O'], []], [['I-PER', 'I-PER'], []],
    [['I-PER', 'I-ORG'], []], [['I-PER', 'B-PER'], []], [['I-PER', 'E-PER'], []], [['I-PER', 'E-ORG'], []], [['I-PER', 'S-PER'], [['PER', 1, 2]]],
    [['B-PER', 'O'], []], [['B-PER', 'I-PER'], []], [['B-PER', 'I-ORG'], []], [['B-PER', 'B-PER'], []], [['B-PER', 'E-PER'], [['PER', 0, 2]]],
    [['B-PER', 'E-ORG'], []], [['B-PER', 'S-PER'], [['PER', 1, 2]]], [['E-PER', 'O'], []], [['E-PER', 'I-PER'], []], [['E-PER', 'B-PER'], []],
    [['E-PER', 'E-PER'], []], [['E-PER', 'S-PER'], [['PER', 1, 2]]], [['S-PER', 'O'], [['PER', 0, 1]]], [['S-PER', 'I-PER'], [['PER', 0, 1]]],
    [['S-PER', 'B-PER'], [['PER', 0, 1]]], [['S-PER', 'E-PER'], [['PER', 0, 1]]], [['S-PER', 'S-PER'], [['PER', 0, 1], ['PER', 1, 2]]],
  ],
};

test("seqeval strict mode: the entities of seqeval's own scheme tests (IOB2, IOE2, IOBES, and BILOU as IOBES renamed)", () => {
  const asTuples = (tags: string[], scheme: SeqevalScheme) => strictEntities(tags, scheme).map((e) => [e.type, e.start, e.end + 1]);
  let n = 0;
  for (const [scheme, cases] of Object.entries(SCHEME_CASES)) {
    for (const [tags, want] of cases) {
      assert.deepEqual(asTuples(tags, scheme as SeqevalScheme), want, `${scheme} ${JSON.stringify(tags)}`);
      n++;
    }
  }
  // BILOU has IOBES's patterns with U for S and L for E (seqeval.scheme.BILOU)
  for (const [tags, want] of SCHEME_CASES.IOBES) {
    const bilou = tags.map((t) => t.replace(/^S/, 'U').replace(/^E/, 'L'));
    assert.deepEqual(asTuples(bilou, 'BILOU'), want, `BILOU ${JSON.stringify(bilou)}`);
  }
  assert.ok(n > 60);
  assert.throws(() => strictEntities(['B-PER', 'E-PER'], 'IOB2'), /Invalid token is found: E-PER\. Allowed prefixes in IOB2 are: I, O, B/);
  assert.throws(() => seqevalScores([['B-PER']], [['B-PER']], { mode: 'strict' }), /mode 'strict' needs a scheme/);
});

test("seqeval classification_report: README examples (default and strict), micro/macro/weighted averages", () => {
  // README: default mode, MISC missed (pred starts one token early), PER found: micro .5, macro .5, weighted .5
  const yTrue = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
  const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
  const d = seqevalScores(yPred, yTrue);
  assert.deepEqual([d.precision, d.recall, d.f1], [0.5, 0.5, 0.5]);
  assert.deepEqual(d.macro, { precision: 0.5, recall: 0.5, f1: 0.5 });
  assert.deepEqual(d.weighted, { precision: 0.5, recall: 0.5, f1: 0.5 });
  assert.deepEqual(d.perType.MISC, { precision: 0, recall: 0, f1: 0, number: 1 });
  // README: ['B-NP','I-NP','O'] vs ['I-NP','I-NP','O']: 1.00 everywhere by default, 0.00 in strict IOB2
  const t = [['B-NP', 'I-NP', 'O']];
  const p = [['I-NP', 'I-NP', 'O']];
  assert.equal(seqevalScores(p, t).f1, 1);
  const s = seqevalScores(p, t, { mode: 'strict', scheme: 'IOB2' });
  assert.deepEqual([s.precision, s.recall, s.f1, s.macro.f1, s.weighted.f1], [0, 0, 0, 0, 0]);
  assert.deepEqual(s.perType.NP, { precision: 0, recall: 0, f1: 0, number: 1 });
  // macro vs weighted differ when supports differ: PER 2 gold (1 found), LOC 1 gold (found)
  const m = seqevalScores([['B-PER', 'O', 'B-LOC', 'O', 'O']], [['B-PER', 'O', 'B-LOC', 'B-PER', 'O']], { mode: 'strict', scheme: 'IOB2' });
  assert.deepEqual(m.perType.PER, { precision: 1, recall: 0.5, f1: 2 / 3, number: 2 });
  assert.deepEqual(m.macro, { precision: 1, recall: 0.75, f1: (2 / 3 + 1) / 2 });
  assert.deepEqual(m.weighted, { precision: 1, recall: (0.5 * 2 + 1) / 3, f1: ((2 / 3) * 2 + 1) / 3 });
});

test("sacrebleu: 'intl' and 'char' tokenizers, corpus scores for every tokenizer, sufficient statistics, sentence BLEU", () => {
  const r = readRef('sacrebleu.json');
  assert.match(r.produced_by, /^sacrebleu 2\./);
  const texts = [...r.hyps, ...(r.refs as string[][]).flat()];
  assert.deepEqual(texts.map(tokenizeIntl), r.tok_intl);
  assert.deepEqual((r.hyps as string[]).map(tokenizeChar), r.tok_char);
  let n = 0;
  for (const [key, want] of Object.entries(r.corpus as Record<string, { score: number; counts: number[]; totals: number[]; bp: number; sys_len: number; ref_len: number; stats: number[][] }>)) {
    const [tok, lc] = key.split('|');
    const opts = { tokenize: tok as BleuTokenize, lowercase: lc === 'True' };
    const stats = bleuSufficientStats(r.hyps, r.refs2, opts);
    assert.deepEqual(stats, want.stats, `${key} sufficient statistics`);
    const got = bleuStats(r.hyps, r.refs2, opts);
    assert.ok(Math.abs(got.score - want.score) <= 1e-9, `${key}: ${got.score} vs sacrebleu ${want.score}`);
    assert.deepEqual([got.counts, got.totals, got.sysLen, got.refLen], [want.counts, want.totals, want.sys_len, want.ref_len], key);
    assert.ok(Math.abs(got.bp - want.bp) <= 1e-12, `${key} bp`);
    n++;
  }
  assert.equal(n, 8);
  // the corpus score of a subset from its rows of statistics, summed
  const rows = bleuSufficientStats(r.hyps, r.refs2, { tokenize: 'intl' });
  assert.ok(Math.abs(bleuFromStats(r.subset.idx.map((i: number) => rows[i])).score - r.subset.score) <= 1e-9);
  for (const [k, s] of (r.sentence as { tok: BleuTokenize; score: number }[]).entries()) {
    const i = k % 7;
    const got = sentenceBleu(r.hyps[i], r.refs2[i], { tokenize: s.tok }).score;
    assert.ok(Math.abs(got - s.score) <= 1e-9, `sentence ${i} (${s.tok}): ${got} vs sacrebleu ${s.score}`);
  }
  assert.throws(() => bleuFromStats([[1, 2, 3]]), /must hold 10 non-negative numbers/);
  assert.throws(() => bleu(['a'], [['a']], { tokenize: 'spm' as never }), /tokenize must be one of '13a', 'intl', 'char', 'none'/);
});
