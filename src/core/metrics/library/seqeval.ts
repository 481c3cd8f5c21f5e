// Entity-level scores for token classification, as seqeval (and HF `seqeval`) computes them. Default mode:
// chunks found the conlleval way (an I- after O or after another type starts a chunk). Strict mode
// (mode: 'strict' with a scheme): seqeval.scheme's start/inside/end patterns, so only well-formed chunks of
// that scheme count (IOB2 needs its B-, IOBES its S-/E-, ...). An entity counts when type, start and end all
// match; accuracy is per tag; micro, macro and weighted averages as classification_report gives them.
import { EvalpredError } from '../../errors';
import { warnOnce } from './values';

export interface EntityScores {
  precision: number;
  recall: number;
  f1: number;
  /** Gold entities of this type (seqeval's support). */
  number: number;
}

export interface SeqevalScores {
  /** Micro-averaged over every entity. */
  precision: number;
  recall: number;
  f1: number;
  /** classification_report's "macro avg" (plain mean over entity types) and "weighted avg" (weighted by support). */
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
  /** Token-level tag accuracy. */
  accuracy: number;
  /** Per entity type, keys sorted as seqeval sorts them. */
  perType: Record<string, EntityScores>;
}

export type SeqevalScheme = 'IOB2' | 'IOB1' | 'IOE1' | 'IOE2' | 'IOBES' | 'BILOU';

export interface SeqevalOptions {
  /** The tagging scheme; used by mode 'strict' (the default mode ignores it, as seqeval does). */
  scheme?: SeqevalScheme;
  /** seqeval's mode='strict': entities must be well-formed in `scheme`. */
  mode?: 'default' | 'strict';
  /** Tags written TYPE-B instead of B-TYPE. */
  suffix?: boolean;
}

export interface Entity {
  type: string;
  start: number;
  /** Inclusive, as seqeval. */
  end: number;
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** seqeval.metrics.sequence_labeling.get_entities on one tag sequence. */
export function getEntities(tags: readonly string[], suffix = false): Entity[] {
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  const chunks: Entity[] = [];
  const seq = [...tags, 'O'];
  seq.forEach((chunk, i) => {
    if (typeof chunk !== 'string' || chunk.length === 0) {
      throw new EvalpredError(`tag ${i} is ${JSON.stringify(chunk)}: tags must be non-empty strings such as 'B-PER' or 'O'`);
    }
    let tag: string;
    let type: string;
    if (suffix) {
      tag = chunk[chunk.length - 1];
      const body = chunk.slice(0, -1);
      const cut = body.lastIndexOf('-');
      type = (cut >= 0 ? body.slice(0, cut) : body) || '_';
    } else {
      tag = chunk[0];
      const body = chunk.slice(1);
      const cut = body.indexOf('-');
      type = (cut >= 0 ? body.slice(cut + 1) : body) || '_';
    }
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  });
  return chunks;
}

// seqeval.scheme: (previous prefixes, current prefixes, tag condition) patterns per scheme.
type Cond = 'same' | 'diff' | 'any';
type Pattern = [prev: string, cur: string, cond: Cond];
interface SchemeRules {
  allowed: string;
  start: Pattern[];
  inside: Pattern[];
  end: Pattern[];
}
const ANY = 'IOBESUL';
const SCHEMES: Record<SeqevalScheme, SchemeRules> = {
  IOB1: {
    allowed: 'IOB',
    start: [['O', 'I', 'any'], ['I', 'I', 'diff'], ['B', 'I', 'any'], ['I', 'B', 'same'], ['B', 'B', 'same']],
    inside: [['B', 'I', 'same'], ['I', 'I', 'same']],
    end: [['I', 'I', 'diff'], ['I', 'O', 'any'], ['I', 'B', 'any'], ['B', 'O', 'any'], ['B', 'I', 'diff'], ['B', 'B', 'same']],
  },
  IOE1: {
    allowed: 'IOE',
    start: [['O', 'I', 'any'], ['I', 'I', 'diff'], ['E', 'I', 'any'], ['E', 'E', 'same']],
    inside: [['I', 'I', 'same'], ['I', 'E', 'same']],
    end: [['I', 'I', 'diff'], ['I', 'O', 'any'], ['I', 'E', 'diff'], ['E', 'I', 'same'], ['E', 'E', 'same']],
  },
  IOB2: {
    allowed: 'IOB',
    start: [[ANY, 'B', 'any']],
    inside: [['B', 'I', 'same'], ['I', 'I', 'same']],
    end: [['I', 'O', 'any'], ['I', 'I', 'diff'], ['I', 'B', 'any'], ['B', 'O', 'any'], ['B', 'I', 'diff'], ['B', 'B', 'any']],
  },
  IOE2: {
    allowed: 'IOE',
    start: [['O', 'I', 'any'], ['O', 'E', 'any'], ['E', 'I', 'any'], ['E', 'E', 'any'], ['I', 'I', 'diff'], ['I', 'E', 'diff']],
    inside: [['I', 'E', 'same'], ['I', 'I', 'same']],
    end: [['E', ANY, 'any']],
  },
  IOBES: {
    allowed: 'IOBES',
    start: [[ANY, 'B', 'any'], [ANY, 'S', 'any']],
    inside: [['B', 'I', 'same'], ['B', 'E', 'same'], ['I', 'I', 'same'], ['I', 'E', 'same']],
    end: [['S', ANY, 'any'], ['E', ANY, 'any']],
  },
  BILOU: {
    allowed: 'BILOU',
    start: [[ANY, 'B', 'any'], [ANY, 'U', 'any']],
    inside: [['B', 'I', 'same'], ['B', 'L', 'same'], ['I', 'I', 'same'], ['I', 'L', 'same']],
    end: [['U', ANY, 'any'], ['L', ANY, 'any']],
  },
};

interface StrictToken {
  prefix: string;
  tag: string;
}

function strictToken(token: string, suffix: boolean, rules: SchemeRules, scheme: string): StrictToken {
  const prefix = suffix ? token[token.length - 1] : token[0];
  let tag = suffix ? token.slice(0, -1) : token.slice(1);
  tag = tag.replace(/^-+|-+$/g, '') || '_'; // str.strip('-')
  if (!ANY.includes(prefix) || !rules.allowed.includes(prefix)) {
    throw new EvalpredError(
      `Invalid token is found: ${token}. Allowed prefixes in ${scheme} are: ${rules.allowed.split('').join(', ')} (seqeval's strict mode raises here too); ` +
        `check the scheme option against your label names.`,
    );
  }
  return { prefix, tag };
}

function matches(prev: StrictToken, cur: StrictToken, patterns: Pattern[]): boolean {
  return patterns.some(([pp, cp, cond]) => pp.includes(prev.prefix) && cp.includes(cur.prefix) && (cond === 'any' || (cond === 'same') === (prev.tag === cur.tag)));
}

/** seqeval.scheme.Tokens(tags, scheme).entities: well-formed chunks only (end inclusive here). */
export function strictEntities(tags: readonly string[], scheme: SeqevalScheme, suffix = false): Entity[] {
  const rules = SCHEMES[scheme];
  if (!rules) throw new EvalpredError(`scheme must be one of ${Object.keys(SCHEMES).join(', ')}; got ${JSON.stringify(scheme)}`);
  const outside = strictToken('O', suffix, { ...rules, allowed: rules.allowed + 'O' }, scheme);
  const ext = [...tags, 'O'].map((t) => strictToken(t, suffix, rules, scheme));
  const out: Entity[] = [];
  let i = 0;
  let prev = outside;
  while (i < ext.length) {
    const token = ext[i];
    if (matches(prev, token, rules.start)) {
      // _forward: extend while tokens are inside
      let end = ext.length;
      let p = token;
      for (let k = i + 1; k < ext.length; k++) {
        if (matches(p, ext[k], rules.inside)) p = ext[k];
        else {
          end = k;
          break;
        }
      }
      if (end === ext.length) end = tags.length - 1; // seqeval's fall-through value (not reached: the sentinel O is never inside)
      if (matches(ext[end - 1], ext[end], rules.end)) out.push({ type: token.tag, start: i, end: end - 1 });
      i = end;
    } else i++;
    prev = ext[i - 1];
  }
  return out;
}

function checkSentences(x: unknown, name: string): asserts x is string[][] {
  if (!Array.isArray(x)) throw new EvalpredError(`${name} must be an array of tag sequences (string[][])`, { tensor: name });
  x.forEach((s, i) => {
    if (!Array.isArray(s)) throw new EvalpredError(`${name}[${i}] must be an array of tags, got ${s === null ? 'null' : typeof s}`, { tensor: name, row: i });
    s.forEach((t, j) => {
      if (typeof t !== 'string' || t.length === 0) {
        throw new EvalpredError(`${name}[${i}][${j}] is ${JSON.stringify(t) ?? 'undefined'}: tags must be non-empty strings such as 'B-PER' or 'O'`, {
          tensor: name,
          row: i,
        });
      }
    });
  });
}

/**
 * Entities keyed per type: default mode over the sentences joined with an 'O' between them, as seqeval
 * does; strict mode sentence by sentence (seqeval's Entities, keyed by sentence id).
 */
function entityKeys(sentences: string[][], suffix: boolean, strict: SeqevalScheme | null): Map<string, Set<string>> {
  const byType = new Map<string, Set<string>>();
  const add = (e: Entity, key: string) => {
    if (!byType.has(e.type)) byType.set(e.type, new Set());
    byType.get(e.type)!.add(key);
  };
  if (strict) sentences.forEach((s, id) => strictEntities(s, strict, suffix).forEach((e) => add(e, `${id} ${e.start} ${e.end}`)));
  else getEntities(sentences.flatMap((s) => [...s, 'O']), suffix).forEach((e) => add(e, `${e.start} ${e.end}`));
  return byType;
}

function prf(tp: number, predicted: number, gold: number, scope: string): [number, number, number] {
  if (predicted === 0) warnOnce(`Precision is ill-defined and being set to 0.0 ${scope} no predicted samples.`);
  if (gold === 0) warnOnce(`Recall is ill-defined and being set to 0.0 ${scope} no true samples.`);
  const p = predicted === 0 ? 0 : tp / predicted;
  const r = gold === 0 ? 0 : tp / gold;
  const denom = p + r;
  return [p, r, (2 * p * r) / (denom === 0 ? 1 : denom)];
}

/** seqeval classification_report (default mode) plus accuracy_score, as HF `seqeval` reports them. */
export function seqevalScores(predTags: string[][], goldTags: string[][], options: SeqevalOptions = {}): SeqevalScores {
  checkSentences(predTags, 'predTags');
  checkSentences(goldTags, 'goldTags');
  if (predTags.length !== goldTags.length) {
    throw new EvalpredError(`predTags has ${predTags.length} sequences but goldTags has ${goldTags.length}`, { tensor: 'predTags' });
  }
  let tokens = 0;
  let correct = 0;
  predTags.forEach((p, i) => {
    if (p.length !== goldTags[i].length) {
      throw new EvalpredError(`sequence ${i} has ${p.length} predicted tags but ${goldTags[i].length} gold tags`, { tensor: 'predTags', row: i });
    }
    tokens += p.length;
    for (let j = 0; j < p.length; j++) if (p[j] === goldTags[i][j]) correct++;
  });
  if (tokens === 0) throw new EvalpredError('predTags and goldTags hold no tags: there is nothing to score', { tensor: 'predTags' });

  const suffix = options.suffix ?? false;
  const mode = options.mode ?? 'default';
  if (mode !== 'default' && mode !== 'strict') throw new EvalpredError(`mode must be 'default' or 'strict'; got ${JSON.stringify(mode)}`);
  if (mode === 'strict' && !options.scheme) {
    throw new EvalpredError("mode 'strict' needs a scheme (IOB2, IOE2, IOBES, BILOU, IOB1 or IOE1); seqeval would silently fall back to the default mode");
  }
  const strict = mode === 'strict' ? options.scheme! : null;
  const pred = entityKeys(predTags, suffix, strict);
  const gold = entityKeys(goldTags, suffix, strict);
  const types = [...new Set([...pred.keys(), ...gold.keys()])].sort();
  const perType: Record<string, EntityScores> = {};
  let tpAll = 0;
  let predAll = 0;
  let goldAll = 0;
  for (const type of types) {
    const p = pred.get(type) ?? new Set<string>();
    const g = gold.get(type) ?? new Set<string>();
    let tp = 0;
    for (const k of p) if (g.has(k)) tp++;
    const [precision, recall, f1] = prf(tp, p.size, g.size, 'in labels with');
    perType[type] = { precision, recall, f1, number: g.size };
    tpAll += tp;
    predAll += p.size;
    goldAll += g.size;
  }
  const [precision, recall, f1] = prf(tpAll, predAll, goldAll, 'due to');
  const rows = types.map((t) => perType[t]);
  const mean = (k: 'precision' | 'recall' | 'f1') => rows.reduce((a, r) => a + r[k], 0) / rows.length;
  const weightedBy = (k: 'precision' | 'recall' | 'f1') => (goldAll === 0 ? 0 : rows.reduce((a, r) => a + r[k] * r.number, 0) / goldAll);
  return {
    precision,
    recall,
    f1,
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
    weighted: { precision: weightedBy('precision'), recall: weightedBy('recall'), f1: weightedBy('f1') },
    accuracy: correct / tokens,
    perType,
  };
}
