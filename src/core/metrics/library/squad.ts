// SQuAD v1.1 exact match and token F1, as the official evaluate-v1.1.py script (and HF `squad`) computes them.
import { EvalpredError } from '../../errors';
import { checkStrings, countTokens, overlap, pySplit } from './values';

// string.punctuation (ASCII only, as Python's).
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python's re `\b` on str is Unicode-aware (word = letters, digits, underscore); JS `\b` is ASCII-only.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The official normalize_answer: lowercase, drop punctuation, drop articles a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  let noPunc = '';
  for (const ch of lower) if (!PUNCTUATION.has(ch)) noPunc += ch;
  return pySplit(noPunc.replace(ARTICLES, ' ')).join(' ');
}

function asList(reference: string | readonly string[], where: string): readonly string[] {
  const refs = typeof reference === 'string' ? [reference] : reference;
  checkStrings(refs, where);
  if (refs.length === 0) throw new EvalpredError(`${where} holds no reference answers`, { tensor: where });
  return refs;
}

function emOne(prediction: string, truth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(truth) ? 1 : 0;
}

function f1One(prediction: string, truth: string): number {
  const p = pySplit(normalizeAnswer(prediction));
  const t = pySplit(normalizeAnswer(truth));
  const same = overlap(countTokens(p), countTokens(t));
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / t.length;
  return (2 * precision * recall) / (precision + recall);
}

/** 1 if the normalized prediction equals a normalized reference (max over references), else 0. */
export function squadExactMatch(prediction: string, reference: string | readonly string[]): number {
  if (typeof prediction !== 'string') throw new EvalpredError(`prediction must be a string, got ${typeof prediction}`);
  return Math.max(...asList(reference, 'references').map((r) => emOne(prediction, r)));
}

/** Token-overlap F1 in [0, 1] after normalization, max over references. */
export function squadF1(prediction: string, reference: string | readonly string[]): number {
  if (typeof prediction !== 'string') throw new EvalpredError(`prediction must be a string, got ${typeof prediction}`);
  return Math.max(...asList(reference, 'references').map((r) => f1One(prediction, r)));
}

export interface SquadScores {
  /** Percent (0–100), named as HF `squad` names it. */
  exact_match: number;
  /** Percent (0–100). */
  f1: number;
}

/** Corpus SQuAD v1.1: mean exact match and F1 over questions, each the max over that question's references, in percent. */
export function squad(predictions: readonly string[], references: readonly (readonly string[])[]): SquadScores {
  checkStrings(predictions, 'predictions');
  if (!Array.isArray(references)) throw new EvalpredError('references must be an array (one array of answer strings per prediction)');
  if (predictions.length !== references.length) {
    throw new EvalpredError(`predictions has ${predictions.length} answers but references has ${references.length}: give one list of reference answers per prediction`);
  }
  if (predictions.length === 0) throw new EvalpredError('predictions is empty: there is nothing to score');
  let em = 0;
  let f = 0;
  predictions.forEach((p, i) => {
    const refs = asList(references[i], `references[${i}]`);
    em += Math.max(...refs.map((r) => emOne(p, r)));
    f += Math.max(...refs.map((r) => f1One(p, r)));
  });
  return { exact_match: (100 * em) / predictions.length, f1: (100 * f) / predictions.length };
}
