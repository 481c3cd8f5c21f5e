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
import { rouge, rougeLsum, rougeN, rougeLcs, rougeTokenize, summaryLevelLcs } from '../../src/core/metrics/library';

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
