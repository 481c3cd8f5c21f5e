// ROUGE-1/2/L/Lsum F-measures as Google's rouge_score computes them (RougeScorer): lowercase, every run of
// non [a-z0-9] characters becomes a space (so non-ASCII letters are dropped), tokens split on whitespace;
// with useStemmer (run_summarization.py's use_stemmer=True) tokens longer than 3 characters go through
// NLTK's Porter stemmer (./porterStemmer.ts). rougeLsum is the summary-level LCS over sentences separated by
// "\n" (run_summarization.py puts one sentence per line before scoring). Scores are the plain mean over
// pairs (HF `evaluate` with use_aggregator=False, then averaged; its default bootstrap aggregator reports a
// resampled median of the same mean). Checked against rouge_score's own test cases (docs/fidelity.md).
import { EvalpredError } from '../../errors';
import { porterStem } from './porterStemmer';
import { checkStrings, countTokens, overlap } from './values';

export interface RougeOptions {
  /** rouge_score's use_stemmer: Porter-stem tokens longer than 3 characters (default false, as RougeScorer). */
  useStemmer?: boolean;
}

export interface RougeScores {
  rouge1: number;
  rouge2: number;
  rougeL: number;
  rougeLsum: number;
}

export interface RougePRF {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** rouge_score.tokenize.tokenize(text, stemmer): the stemmer only touches tokens longer than 3 characters. */
export function rougeTokenize(text: string, useStemmer = false): string[] {
  const tokens = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/);
  return (useStemmer ? tokens.map((t) => (t.length > 3 ? porterStem(t) : t)) : tokens).filter((t) => /^[a-z0-9]+$/.test(t));
}

function fmeasure(p: number, r: number): number {
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
}

function ngrams(tokens: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
  return out;
}

/** rouge_score _score_ngrams: clipped n-gram overlap. */
export function rougeN(target: string[], prediction: string[], n: number): RougePRF {
  const t = ngrams(target, n);
  const p = ngrams(prediction, n);
  const inter = overlap(countTokens(t), countTokens(p));
  const precision = inter / Math.max(p.length, 1);
  const recall = inter / Math.max(t.length, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return prev[b.length];
}

/** rouge_score _score_lcs: longest common subsequence of tokens. */
export function rougeLcs(target: string[], prediction: string[]): RougePRF {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** The LCS itself as indices into `ref` (rouge_score _lcs_table + _backtrack_norec, the same tie-breaking). */
function lcsIndices(ref: string[], can: string[]): number[] {
  const t: number[][] = Array.from({ length: ref.length + 1 }, () => new Array<number>(can.length + 1).fill(0));
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) t[i][j] = ref[i - 1] === can[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
  }
  const out: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.unshift(i - 1);
      i--;
      j--;
    } else if (t[i][j - 1] > t[i - 1][j]) j--;
    else i--;
  }
  return out;
}

/**
 * rouge_score _summary_level_lcs: for each reference sentence, the union of its LCS with every candidate
 * sentence, each token counted at most as often as it occurs on both sides (ROUGE-1.5.5's rule).
 */
export function summaryLevelLcs(refSents: string[][], canSents: string[][]): RougePRF {
  const zero = { precision: 0, recall: 0, fmeasure: 0 };
  if (!refSents.length || !canSents.length) return zero;
  const m = refSents.reduce((a, s) => a + s.length, 0);
  const n = canSents.reduce((a, s) => a + s.length, 0);
  if (!m || !n) return zero;
  const cntR = countTokens(refSents.flat());
  const cntC = countTokens(canSents.flat());
  let hits = 0;
  for (const r of refSents) {
    const union = [...new Set(canSents.flatMap((c) => lcsIndices(r, c)))].sort((a, b) => a - b);
    for (const idx of union) {
      const tok = r[idx];
      if ((cntC.get(tok) ?? 0) > 0 && (cntR.get(tok) ?? 0) > 0) {
        hits++;
        cntC.set(tok, cntC.get(tok)! - 1);
        cntR.set(tok, cntR.get(tok)! - 1);
      }
    }
  }
  const recall = hits / m;
  const precision = hits / n;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** ROUGE-Lsum of one pair as RougeScorer(["rougeLsum"]) scores it: sentences are the non-empty lines. */
export function rougeLsum(target: string, prediction: string, options: RougeOptions = {}): RougePRF {
  const sents = (text: string) => text.split('\n').filter((x) => x.length > 0).map((x) => rougeTokenize(x, !!options.useStemmer));
  return summaryLevelLcs(sents(target), sents(prediction));
}

/** Mean ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures over prediction/reference pairs, each in [0, 1]. */
export function rouge(predictions: readonly string[], references: readonly string[], options: RougeOptions = {}): RougeScores {
  checkStrings(predictions, 'predictions');
  checkStrings(references, 'references');
  if (predictions.length !== references.length) {
    throw new EvalpredError(`predictions has ${predictions.length} texts but references has ${references.length}: give one reference per prediction`);
  }
  if (predictions.length === 0) throw new EvalpredError('predictions is empty: there is nothing to score');
  const stem = !!options.useStemmer;
  const sums = { rouge1: 0, rouge2: 0, rougeL: 0, rougeLsum: 0 };
  predictions.forEach((p, i) => {
    const pt = rougeTokenize(p, stem);
    const tt = rougeTokenize(references[i], stem);
    sums.rouge1 += rougeN(tt, pt, 1).fmeasure;
    sums.rouge2 += rougeN(tt, pt, 2).fmeasure;
    sums.rougeL += rougeLcs(tt, pt).fmeasure;
    sums.rougeLsum += rougeLsum(references[i], p, options).fmeasure;
  });
  const n = predictions.length;
  return { rouge1: sums.rouge1 / n, rouge2: sums.rouge2 / n, rougeL: sums.rougeL / n, rougeLsum: sums.rougeLsum / n };
}
