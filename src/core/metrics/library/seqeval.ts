// Entity-level scores for token classification, as seqeval's default mode (and HF `seqeval`) computes
// them: chunks found the conlleval way (an I- after O or after another type starts a chunk), an entity
// counts when type, start and end all match; accuracy is per tag.
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
  /** Token-level tag accuracy. */
  accuracy: number;
  /** Per entity type, keys sorted as seqeval sorts them. */
  perType: Record<string, EntityScores>;
}

export interface SeqevalOptions {
  /** Only the default (non-strict) mode is implemented, where seqeval ignores the scheme. */
  scheme?: 'IOB2' | 'IOB1' | 'IOE1' | 'IOE2' | 'IOBES' | 'BILOU';
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

/** Entities keyed `start end` per type, over the sentences joined with an 'O' between them, as seqeval does. */
function entityKeys(sentences: string[][], suffix: boolean): Map<string, Set<string>> {
  const flat = sentences.flatMap((s) => [...s, 'O']);
  const byType = new Map<string, Set<string>>();
  for (const e of getEntities(flat, suffix)) {
    if (!byType.has(e.type)) byType.set(e.type, new Set());
    byType.get(e.type)!.add(`${e.start} ${e.end}`);
  }
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
  const pred = entityKeys(predTags, suffix);
  const gold = entityKeys(goldTags, suffix);
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
  return { precision, recall, f1, accuracy: correct / tokens, perType };
}
