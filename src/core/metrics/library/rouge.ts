// ROUGE-1/2/L F-measures as Google's rouge_score computes them by default (RougeScorer without stemmer):
// lowercase, every run of non [a-z0-9] characters becomes a space (so non-ASCII letters are dropped),
// tokens split on whitespace. Scores are the plain mean over pairs (HF `evaluate` with use_aggregator=False,
// then averaged; its default bootstrap aggregator reports a resampled median of the same mean).
// The Porter stemmer (use_stemmer=True) is not implemented: asking for it is an error.
import { EvalpredError } from '../../errors';
import { checkStrings, countTokens, overlap } from './values';

export interface RougeOptions {
  /** Not supported: throws if true. */
  useStemmer?: boolean;
}

export interface RougeScores {
  rouge1: number;
  rouge2: number;
  rougeL: number;
}

export interface RougePRF {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** rouge_score.tokenize.tokenize(text, stemmer=None). */
export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((t) => /^[a-z0-9]+$/.test(t));
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

/** Mean ROUGE-1, ROUGE-2 and ROUGE-L F-measures over prediction/reference pairs, each in [0, 1]. */
export function rouge(predictions: readonly string[], references: readonly string[], options: RougeOptions = {}): RougeScores {
  if (options.useStemmer) {
    throw new EvalpredError('rouge: useStemmer is not supported by the built-in library (no Porter stemmer); score without it or compute ROUGE in a Python metric file with rouge_score');
  }
  checkStrings(predictions, 'predictions');
  checkStrings(references, 'references');
  if (predictions.length !== references.length) {
    throw new EvalpredError(`predictions has ${predictions.length} texts but references has ${references.length}: give one reference per prediction`);
  }
  if (predictions.length === 0) throw new EvalpredError('predictions is empty: there is nothing to score');
  const sums = { rouge1: 0, rouge2: 0, rougeL: 0 };
  predictions.forEach((p, i) => {
    const pt = rougeTokenize(p);
    const tt = rougeTokenize(references[i]);
    sums.rouge1 += rougeN(tt, pt, 1).fmeasure;
    sums.rouge2 += rougeN(tt, pt, 2).fmeasure;
    sums.rougeL += rougeLcs(tt, pt).fmeasure;
  });
  const n = predictions.length;
  return { rouge1: sums.rouge1 / n, rouge2: sums.rouge2 / n, rougeL: sums.rougeL / n };
}
