// Corpus BLEU as sacrebleu 2.x computes it with its defaults (BLEU(): tokenize='13a', lowercase=False,
// smooth_method='exp', max_ngram_order=4, effective_order=False), on a 0–100 scale.
// 'exp' smoothing (mteval-v13a's): the k-th n-gram order with zero matches gets precision
// 100 / (2^k * total) instead of 0; it only matters when some order has no match at all. With no match of
// any order, the score is 0.
import { EvalpredError } from '../../errors';
import { checkStrings, pySplit } from './values';

export type SmoothMethod = 'exp' | 'none' | 'floor' | 'add-k';

export interface BleuOptions {
  lowercase?: boolean;
  /** '13a' (default) or 'none' (split on whitespace only). */
  tokenize?: '13a' | 'none';
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
 * Corpus BLEU with every statistic. `references[i]` lists the reference translations of `hypotheses[i]`
 * (HF `evaluate`'s layout; sacrebleu's own corpus_bleu takes the transpose).
 */
export function bleuStats(hypotheses: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): BleuStats {
  checkStrings(hypotheses, 'hypotheses');
  if (!Array.isArray(references)) throw new EvalpredError('references must be an array (one array of reference strings per hypothesis)');
  if (hypotheses.length !== references.length) {
    throw new EvalpredError(
      `hypotheses has ${hypotheses.length} sentences but references has ${references.length}: give one list of references per hypothesis`,
    );
  }
  if (hypotheses.length === 0) throw new EvalpredError('hypotheses is empty: there is nothing to score');
  const maxOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxOrder) || maxOrder < 1) throw new EvalpredError(`maxNgramOrder must be a positive integer; got ${maxOrder}`);
  const smooth = options.smoothMethod ?? 'exp';
  if (!['exp', 'none', 'floor', 'add-k'].includes(smooth)) throw new EvalpredError(`smoothMethod must be 'exp', 'none', 'floor' or 'add-k'; got ${JSON.stringify(smooth)}`);
  const tok = options.tokenize ?? '13a';
  if (tok !== '13a' && tok !== 'none') throw new EvalpredError(`tokenize must be '13a' or 'none'; got ${JSON.stringify(tok)}`);
  const prep = (s: string): string[] => {
    const t = (options.lowercase ? s.toLowerCase() : s).trimEnd();
    return pySplit(tok === '13a' ? tokenize13a(t) : t);
  };

  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, i) => {
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
    sysLen += h.length;
    refLen += closestRefLen(h.length, refLens);
    for (const [k, c] of ngramCounts(h, maxOrder)) {
      const n = Number(k.slice(0, k.indexOf(':')));
      correct[n - 1] += Math.min(c, refMax.get(k) ?? 0);
    }
    for (let n = 1; n <= maxOrder; n++) total[n - 1] += Math.max(0, h.length - n + 1);
  });
  return computeBleu(correct, total, sysLen, refLen, smooth, options.smoothValue, options.effectiveOrder ?? false, maxOrder);
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
