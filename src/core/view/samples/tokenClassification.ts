// Token classification rows: tags of the labelled tokens (the first sub-token of each word), shown on the
// dataset's words when their count matches. A sample is correct when its entities (seqeval's chunks of the
// IOB tags) equal the gold entities, as the seqeval metric counts them; tags without IOB prefixes compare
// token by token.
import { getEntities } from '../../metrics/library/seqeval';
import { getField } from '../../data';
import type { TokenTag } from '../../../shared/protocol';
import type { Tensor } from '../../tensor/tensor';
import { NONE, firstTensor, numbers, softmaxAt } from './arrays';
import type { TaskContext, TaskRows } from './types';

interface Tags {
  pred: Int32Array;
  gold: Int32Array;
}

function sameEntities(pred: string[], gold: string[]): boolean {
  const key = (tags: string[]) =>
    getEntities(tags)
      .map((e) => `${e.type}:${e.start}:${e.end}`)
      .join(',');
  return key(pred) === key(gold);
}

export function tokenRows(ctx: TaskContext, preds: Tensor): TaskRows {
  const { cols, src } = ctx;
  const labels = firstTensor(src.evalPred.labelIds);
  const get = numbers(preds);
  const logits = preds.ndim === 3 && preds.dtype.startsWith('float');
  const T = preds.shape[1] ?? 0;
  const C = logits ? preds.shape[2] : 0;
  const lab = labels && labels.ndim === 2 && labels.shape[1] === T ? labels : undefined;
  const labGet = lab ? numbers(lab) : undefined;
  const iob = ctx.labels.some((l) => /^[BIES]-/.test(l));
  const tags: Tags[] = [];
  const tokenAccuracy = new Float64Array(cols.n).fill(NaN);
  for (let i = 0; i < cols.n; i++) {
    const p: number[] = [];
    const g: number[] = [];
    let conf = 0;
    let ce = 0;
    for (let k = 0; k < T; k++) {
      const gold = labGet ? labGet(i * T + k) : 0;
      if (labGet && gold === -100) continue; // only the first sub-token of a word carries a label
      if (logits) {
        const s = softmaxAt(get, (i * T + k) * C, C, labGet ? gold : NONE);
        p.push(s.arg);
        conf += s.pmax;
        ce += s.ce;
      } else p.push(get(i * T + k));
      g.push(labGet ? gold : NONE);
    }
    const m = p.length;
    if (logits && m) {
      cols.confidence[i] = conf / m;
      cols.loss[i] = labGet ? ce / m : NaN;
    }
    if (labGet && m) {
      let same = 0;
      for (let k = 0; k < m; k++) if (p[k] === g[k]) same++;
      tokenAccuracy[i] = same / m;
    }
    if (labGet) {
      cols.correct[i] = (iob ? sameEntities(p.map(ctx.name), g.map(ctx.name)) : p.every((v, k) => v === g[k])) ? 1 : 0;
    }
    tags.push({ pred: Int32Array.from(p), gold: Int32Array.from(g) });
  }

  const tokensOf = (i: number): TokenTag[] => {
    const t = tags[i];
    const words = src.dataset && src.textColumn && i < src.dataset.numRows ? getField(src.dataset.row(i), src.textColumn) : undefined;
    const inputs = firstTensor(src.evalPred.inputs);
    const fromWords = Array.isArray(words) && words.length === t.pred.length;
    let fromIds: string[] | undefined;
    if (!fromWords && inputs && src.tokenizer && inputs.ndim === 2) {
      const row = inputs.row(i);
      fromIds = [];
      for (let k = 0; k < row.size; k++) {
        if (lab && lab.get(i, k) === -100) continue;
        fromIds.push(src.tokenizer.idToToken(row.at(k)) ?? String(row.at(k)));
      }
    }
    return Array.from(t.pred, (p, k) => ({
      token: fromWords ? String((words as unknown[])[k]) : fromIds?.[k] ?? `#${k}`,
      pred: ctx.name(p),
      predId: p,
      ...(t.gold[k] !== NONE ? { gold: ctx.name(t.gold[k]) } : {}),
    }));
  };

  return {
    // Labelled tokens right / labelled tokens of the sample (seqeval's accuracy counts the same tokens over all samples).
    scores: lab ? [{ name: 'token_accuracy', values: tokenAccuracy }] : [],
    describe(i, v) {
      const tokens = tokensOf(i);
      v.tokens = tokens;
      v.prediction = tokens.map((t) => t.pred).join(' ');
      if (tokens.some((t) => t.gold !== undefined)) v.label = tokens.map((t) => t.gold ?? '').join(' ');
    },
    hasGold: (i, id) => tags[i].gold.includes(id),
    hasPredicted: (i, id) => tags[i].pred.includes(id),
    hasPair(i, g, p) {
      const t = tags[i];
      for (let k = 0; k < t.pred.length; k++) if (t.gold[k] === g && t.pred[k] === p) return true;
      return false;
    },
    *tokenPairs() {
      for (const t of tags) for (let k = 0; k < t.pred.length; k++) if (t.gold[k] !== NONE) yield [t.gold[k], t.pred[k]];
    },
  };
}
