// Short movie-review-like sentences from word lists and templates (seeded), labelled 0 = negative, 1 = positive.
// Negations ("was not bad") and contrasts ("great acting but a dull plot", where the clause after "but"
// decides) are there on purpose: a bag-of-words model gets most sentences right and these often wrong,
// so the demo's accuracy is good but not perfect, as a real evaluation would be.
import { Rng, pick } from './prng';

export const POSITIVE_ADJECTIVES = ['great', 'wonderful', 'brilliant', 'moving', 'delightful', 'superb', 'charming', 'excellent', 'enjoyable', 'fun', 'beautiful', 'clever', 'touching', 'gripping', 'hilarious', 'good'];
export const NEGATIVE_ADJECTIVES = ['terrible', 'awful', 'boring', 'dull', 'bad', 'weak', 'tedious', 'messy', 'predictable', 'bland', 'clumsy', 'painful', 'forgettable', 'poor', 'silly', 'slow'];
export const POSITIVE_VERBS = ['loved', 'enjoyed', 'adored', 'liked', 'admired'];
export const NEGATIVE_VERBS = ['hated', 'disliked', 'regretted', 'endured', 'resented'];
/** Base forms for "I did not ...", keyed by the past tense. */
const BASE_FORM: Record<string, string> = {
  loved: 'love', enjoyed: 'enjoy', adored: 'adore', liked: 'like', admired: 'admire',
  hated: 'hate', disliked: 'dislike', regretted: 'regret', endured: 'endure', resented: 'resent',
};
export const NOUNS = ['movie', 'film', 'story', 'plot', 'script', 'cast', 'ending', 'soundtrack', 'acting', 'dialogue', 'performance', 'director', 'sequel', 'comedy', 'thriller', 'drama', 'pacing', 'camera'];
export const PLURAL_NOUNS = ['jokes', 'actors', 'characters', 'scenes', 'effects', 'songs'];
const INTENSIFIERS = ['very', 'really', 'quite', 'truly', 'so', 'rather', 'pretty', 'incredibly'];
const DETERMINERS = ['the', 'this', 'that'];
/** Filler words the templates use; part of the vocabulary. */
export const FUNCTION_WORDS = ['the', 'this', 'that', 'a', 'an', 'was', 'were', 'is', 'are', 'and', 'but', 'not', 'i', 'did', 'what', 'it', 'overall', 'honestly', 'still', 'at', 'all', 'too'];
export const PUNCTUATION = ['.', '!', ','];
/** Plural nouns are spelt in full in sentences; the vocabulary holds the singular and `##s`, so WordPiece splits them. */
export const CONTINUATIONS = ['##s'];

export interface Review {
  sentence: string;
  label: 0 | 1;
}

type Polar = { word: string; positive: boolean };

function adjective(rng: Rng, positive?: boolean): Polar {
  const pos = positive ?? rng() < 0.5;
  return { word: pick(rng, pos ? POSITIVE_ADJECTIVES : NEGATIVE_ADJECTIVES), positive: pos };
}

function verb(rng: Rng): Polar {
  const pos = rng() < 0.5;
  return { word: pick(rng, pos ? POSITIVE_VERBS : NEGATIVE_VERBS), positive: pos };
}

/** "the plot was" / "the actors were". */
function subject(rng: Rng): string {
  if (rng() < 0.2) return `the ${pick(rng, PLURAL_NOUNS)} were`;
  return `${pick(rng, DETERMINERS)} ${pick(rng, NOUNS)} was`;
}

function maybeIntensified(rng: Rng, adj: string): string {
  return rng() < 0.35 ? `${pick(rng, INTENSIFIERS)} ${adj}` : adj;
}

function end(rng: Rng): string {
  const r = rng();
  return r < 0.5 ? '.' : r < 0.7 ? '!' : '';
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

const label = (positive: boolean): 0 | 1 => (positive ? 1 : 0);

/** One review, written as a person would (capital first letter, "I"); the tokenizer lowercases. */
export function review(rng: Rng): Review {
  const r = lowercaseReview(rng);
  const s = r.sentence.replace(/\bi\b/g, 'I');
  return { sentence: s[0].toUpperCase() + s.slice(1), label: r.label };
}

function lowercaseReview(rng: Rng): Review {
  const t = rng();
  if (t < 0.34) {
    const a = adjective(rng);
    return { sentence: `${subject(rng)} ${maybeIntensified(rng, a.word)}${end(rng)}`, label: label(a.positive) };
  }
  if (t < 0.48) {
    const v = verb(rng);
    return { sentence: `i ${v.word} ${pick(rng, DETERMINERS)} ${pick(rng, NOUNS)}${end(rng)}`, label: label(v.positive) };
  }
  if (t < 0.6) {
    const pos = rng() < 0.5;
    const a = adjective(rng, pos);
    let b = adjective(rng, pos);
    if (b.word === a.word) b = adjective(rng, pos);
    return { sentence: `${subject(rng)} ${a.word} and ${maybeIntensified(rng, b.word)}${end(rng)}`, label: label(pos) };
  }
  if (t < 0.68) {
    const a = adjective(rng);
    return { sentence: `what ${article(a.word)} ${a.word} ${pick(rng, NOUNS)}!`, label: label(a.positive) };
  }
  if (t < 0.8) {
    // People mostly negate praise ("not great"); negated criticism ("not bad") is the harder case.
    const a = adjective(rng, rng() < 0.7);
    return { sentence: `${subject(rng)} not ${rng() < 0.2 ? 'too ' : ''}${a.word}${end(rng)}`, label: label(!a.positive) };
  }
  if (t < 0.86) {
    const v = verb(rng);
    return { sentence: `i did not ${BASE_FORM[v.word]} ${pick(rng, DETERMINERS)} ${pick(rng, NOUNS)}${end(rng)}`, label: label(!v.positive) };
  }
  // A contrast: the clause after "but" carries the verdict.
  const last = adjective(rng);
  const first = adjective(rng, !last.positive);
  const lead = rng() < 0.3 ? `${pick(rng, ['overall', 'honestly', 'still'])}, ` : '';
  return { sentence: `${lead}${subject(rng)} ${first.word} but ${subject(rng)} ${maybeIntensified(rng, last.word)}${end(rng)}`, label: label(last.positive) };
}

export function reviews(rng: Rng, n: number): Review[] {
  return Array.from({ length: n }, () => review(rng));
}

/** Every word the generator can emit (the demo vocabulary, specials aside). */
export function reviewWords(): string[] {
  const words = [
    ...FUNCTION_WORDS,
    ...INTENSIFIERS,
    ...POSITIVE_ADJECTIVES,
    ...NEGATIVE_ADJECTIVES,
    ...POSITIVE_VERBS,
    ...NEGATIVE_VERBS,
    ...Object.values(BASE_FORM),
    ...NOUNS,
    ...PLURAL_NOUNS.map((w) => w.replace(/s$/, '')),
    ...PUNCTUATION,
    ...CONTINUATIONS,
  ];
  return [...new Set(words)];
}
