// Corpus BLEU as sacrebleu 2.x computes it with its defaults (BLEU(): tokenize='13a', lowercase=False,
// smooth_method='exp', max_ngram_order=4, effective_order=False), on a 0–100 scale; also its 'intl'
// (TokenizerV14International, Unicode punctuation and symbols) and 'char' tokenizers, per-sentence
// sufficient statistics and corpus scores from their sums (how sacrebleu aggregates), and sentence BLEU.
// Checked against sacrebleu's outputs (test/fixtures/reference/sacrebleu.json says how they were made).
// 'exp' smoothing (mteval-v13a's): the k-th n-gram order with zero matches gets precision
// 100 / (2^k * total) instead of 0; it only matters when some order has no match at all. With no match of
// any order, the score is 0.
import { EvalpredError } from '../../errors';
import { checkStrings, pySplit } from './values';

export type SmoothMethod = 'exp' | 'none' | 'floor' | 'add-k';
export type BleuTokenize = '13a' | 'intl' | 'char' | 'none';
const TOKENIZERS: readonly BleuTokenize[] = ['13a', 'intl', 'char', 'none'];

export interface BleuOptions {
  lowercase?: boolean;
  /** '13a' (default), 'intl' (Unicode punctuation/symbols split off), 'char' (every character a token) or 'none'. */
  tokenize?: BleuTokenize;
  smoothMethod?: SmoothMethod;
  /** For 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  maxNgramOrder?: number;
  effectiveOrder?: boolean;
}

export interface BleuStats {
  /** 0–100. */
  score: number;
  /** Clipped n-gram matches per order. */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Per-order precisions in percent (after smoothing). */
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
}

// mteval-v13a punctuation splitting (sacrebleu's TokenizerRegexp), with the same character ranges.
const RULES: [RegExp, string][] = [
  [/([{-~[-` -&(-+:-@\/])/g, ' $1 '],
  [/([^0-9])([.,])/g, '$1 $2 '],
  [/([.,])([^0-9])/g, ' $1 $2'],
  [/([0-9])(-)/g, '$1 $2 '],
];

/** sacrebleu's Tokenizer13a: the tokenized line, tokens joined by single spaces. */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  s = ` ${s} `;
  for (const [re, rep] of RULES) s = s.replace(re, rep);
  return pySplit(s).join(' ');
}

// sacrebleu's TokenizerV14International (the `regex` module's \p classes; JS has the same with the u flag).
const INTL_RULES: [RegExp, string][] = [
  [/(\P{N})(\p{P})/gu, '$1 $2 '], // punctuation preceded by a non-digit
  [/(\p{P})(\P{N})/gu, ' $1 $2'], // punctuation followed by a non-digit
  [/(\p{S})/gu, ' $1 '], // symbols
];

/** sacrebleu's TokenizerV14International: the tokenized line, tokens joined by single spaces. */
export function tokenizeIntl(line: string): string {
  let s = line;
  for (const [re, rep] of INTL_RULES) s = s.replace(re, rep);
  return pySplit(s).join(' ');
}

/** sacrebleu's TokenizerChar: every character (code point) a token; whitespace falls away when split. */
export function tokenizeChar(line: string): string {
  return Array.from(line).join(' ');
}

function tokenizeWith(tok: BleuTokenize, line: string): string {
  return tok === '13a' ? tokenize13a(line) : tok === 'intl' ? tokenizeIntl(line) : tok === 'char' ? tokenizeChar(line) : line;
}

function ngramCounts(tokens: string[], maxOrder: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // Tokens never hold whitespace, so a space-joined key is unambiguous; the order prefix keeps orders apart.
      const key = `${n}:${tokens.slice(i, i + n).join(' ')}`;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  return m;
}

/** sacrebleu's _get_closest_ref_len: the reference length nearest the hypothesis length, the shorter on a tie. */
function closestRefLen(hypLen: number, refLens: number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const r of refLens) {
    const d = Math.abs(hypLen - r);
    if (bestDiff === -1 || d < bestDiff) {
      bestDiff = d;
      best = r;
    } else if (d === bestDiff && r < best) best = r;
  }
  return best;
}

/**
 * sacrebleu's sufficient statistics, one row per hypothesis, in its layout:
 * [sys_len, ref_len, correct_1..correct_N, total_1..total_N]. Summing the rows and scoring the sum
 * (bleuFromStats) is how corpus_score aggregates. `references[i]` lists the references of `hypotheses[i]`.
 */
export function bleuSufficientStats(hypotheses: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): number[][] {
  checkStrings(hypotheses, 'hypotheses');
  if (!Array.isArray(references)) throw new EvalpredError('references must be an array (one array of reference strings per hypothesis)');
  if (hypotheses.length !== references.length) {
    throw new EvalpredError(
      `hypotheses has ${hypotheses.length} sentences but references has ${references.length}: give one list of references per hypothesis`,
    );
  }
  const maxOrder = checkOrder(options);
  const tok = options.tokenize ?? '13a';
  if (!TOKENIZERS.includes(tok)) throw new EvalpredError(`tokenize must be one of ${TOKENIZERS.map((t) => `'${t}'`).join(', ')}; got ${JSON.stringify(tok)}`);
  const prep = (s: string): string[] => pySplit(tokenizeWith(tok, (options.lowercase ? s.toLowerCase() : s).trimEnd()));
  return hypotheses.map((hyp, i) => {
    const refs = references[i];
    checkStrings(refs, `references[${i}]`);
    if (refs.length === 0) throw new EvalpredError(`references[${i}] is empty: every hypothesis needs at least one reference`, { row: i });
    // Clip each hypothesis n-gram by its largest count in any one reference.
    const refMax = new Map<string, number>();
    const refLens: number[] = [];
    for (const r of refs) {
      const toks = prep(r);
      refLens.push(toks.length);
      for (const [k, c] of ngramCounts(toks, maxOrder)) refMax.set(k, Math.max(refMax.get(k) ?? 0, c));
    }
    const h = prep(hyp);
    const correct = new Array<number>(maxOrder).fill(0);
    const total = new Array<number>(maxOrder).fill(0);
    for (const [k, c] of ngramCounts(h, maxOrder)) {
      const n = Number(k.slice(0, k.indexOf(':')));
      correct[n - 1] += Math.min(c, refMax.get(k) ?? 0);
    }
    for (let n = 1; n <= maxOrder; n++) total[n - 1] = Math.max(0, h.length - n + 1);
    return [h.length, closestRefLen(h.length, refLens), ...correct, ...total];
  });
}

function checkOrder(options: BleuOptions): number {
  const maxOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxOrder) || maxOrder < 1) throw new EvalpredError(`maxNgramOrder must be a positive integer; got ${maxOrder}`);
  const smooth = options.smoothMethod ?? 'exp';
  if (!['exp', 'none', 'floor', 'add-k'].includes(smooth)) throw new EvalpredError(`smoothMethod must be 'exp', 'none', 'floor' or 'add-k'; got ${JSON.stringify(smooth)}`);
  return maxOrder;
}

/**
 * BLEU from sufficient statistics (sacrebleu's _compute_score_from_stats): one row in the layout above, or
 * several rows that are summed first (corpus BLEU of the union of their sentences).
 */
export function bleuFromStats(stats: readonly number[] | readonly (readonly number[])[], options: BleuOptions = {}): BleuStats {
  const maxOrder = checkOrder(options);
  const rows = (Array.isArray(stats[0]) ? stats : [stats]) as readonly (readonly number[])[];
  const width = 2 + 2 * maxOrder;
  const sum = new Array<number>(width).fill(0);
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== width || !r.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new EvalpredError(`stats[${i}] must hold ${width} non-negative numbers (sys_len, ref_len, ${maxOrder} correct counts, ${maxOrder} totals) for maxNgramOrder ${maxOrder}`, { row: i });
    }
    r.forEach((v, k) => (sum[k] += v));
  });
  return computeBleu(sum.slice(2, 2 + maxOrder), sum.slice(2 + maxOrder), sum[0], sum[1], options.smoothMethod ?? 'exp', options.smoothValue, options.effectiveOrder ?? false, maxOrder);
}

/** Corpus BLEU with every statistic (sacrebleu corpus_score). */
export function bleuStats(hypotheses: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): BleuStats {
  const rows = bleuSufficientStats(hypotheses, references, options);
  if (rows.length === 0) throw new EvalpredError('hypotheses is empty: there is nothing to score');
  return bleuFromStats(rows, options);
}

/** sacrebleu sentence_bleu: one hypothesis, its references; effective_order true (sacrebleu's default there). */
export function sentenceBleu(hypothesis: string, references: readonly string[], options: BleuOptions = {}): BleuStats {
  return bleuStats([hypothesis], [references], { effectiveOrder: true, ...options });
}

/** sacrebleu BLEU.compute_bleu from sufficient statistics. */
function computeBleu(
  correctIn: number[],
  totalIn: number[],
  sysLen: number,
  refLen: number,
  smooth: SmoothMethod,
  smoothValueIn: number | undefined,
  effectiveOrder: boolean,
  maxOrder: number,
): BleuStats {
  const correct = [...correctIn];
  const total = [...totalIn];
  const smoothValue = smoothValueIn ?? (smooth === 'floor' ? 0.1 : smooth === 'add-k' ? 1 : 0);
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuStats => ({ score, counts: correctIn, totals: totalIn, precisions, bp, sysLen, refLen });
  if (!correct.some((c) => c > 0)) return result(0);

  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (smooth === 'add-k' && n > 1) {
      correct[n - 1] += smoothValue;
      total[n - 1] += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (smooth === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]);
      } else if (smooth === 'floor') precisions[n - 1] = (100 * smoothValue) / total[n - 1];
    } else precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
  }
  // sacrebleu's my_log: log(0) is taken as -9999999999, which drives the score to 0.
  const logSum = precisions.slice(0, effOrder).reduce((acc, p) => acc + (p === 0 ? -9999999999 : Math.log(p)), 0);
  return result(bp * Math.exp(logSum / effOrder));
}

/** Corpus BLEU score (0–100) with sacrebleu's defaults; see bleuStats for the layout of `references`. */
export function bleu(hypotheses: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): number {
  return bleuStats(hypotheses, references, options).score;
}
