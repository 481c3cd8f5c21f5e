// Generative rows (seq2seq and causal LM): decoded prediction and decoded label. With generated ids
// (predict_with_generate) the two are different sequences, compared as text; with logits (teacher forcing)
// each position is a next-token prediction, shown token by token with its per-sample loss. A causal LM's
// logits at position t predict the token at t + 1 (the shift Trainer's loss and our built-in accuracy use,
// src/core/model/labelSmoother.ts). Correct is exact match of the decoded texts after SQuAD normalisation.
import { normalizeAnswer, squadF1 } from '../../metrics/library/squad';
import type { SequenceView, TokenTag } from '../../../shared/protocol';
import type { Tensor } from '../../tensor/tensor';
import { firstTensor, numbers, softmaxAt } from './arrays';
import { Score, TaskContext, TaskRows, correctScore } from './types';

/** Ids of a row, -100 (Trainer's padding of gathered rows) dropped. */
function rowIds(t: Tensor, i: number): number[] {
  const out: number[] = [];
  const w = t.shape[1];
  const get = numbers(t);
  for (let k = 0; k < w; k++) {
    const v = get(i * w + k);
    if (v !== -100) out.push(v);
  }
  return out;
}

export function generationRows(ctx: TaskContext, causal: boolean): TaskRows {
  const { cols, src } = ctx;
  const preds = firstTensor(src.evalPred.predictions)!;
  const labelsT = firstTensor(src.evalPred.labelIds);
  const labels = labelsT && labelsT.ndim === 2 && !labelsT.dtype.startsWith('float') ? labelsT : undefined;
  const tok = src.tokenizer;
  const logits = preds.ndim === 3 && preds.dtype.startsWith('float');
  // Token-aligned: logits, or ids as wide as the labels that are not generated (preprocess_logits_for_metrics argmax).
  const aligned = !!labels && (logits || (preds.ndim === 2 && !src.generated && preds.shape[1] === labels.shape[1]));
  const shift = causal ? 1 : 0;
  if (!tok) {
    ctx.note(`predictions and labels are shown as token ids, not text: ${src.noTokenizerReason ?? 'there is no tokenizer to decode them'}`);
  }
  // Generations repeat (short answers, labels shared by many rows): decoding each distinct sequence once
  // halves the table's build time on real outputs and more on repetitive ones.
  const memo = new Map<string, string>();
  const decode = (ids: number[]) => {
    if (!tok) return ids.join(' ');
    const key = ids.join(',');
    let text = memo.get(key);
    if (text === undefined) {
      text = tok.decode(ids, { skipSpecialTokens: true });
      if (memo.size < 200_000) memo.set(key, text);
    }
    return text;
  };
  const predIds: Int32Array[] = [];
  const goldIds: (Int32Array | undefined)[] = [];
  const predText: string[] = [];
  const goldText: (string | undefined)[] = [];
  const tokenAccuracy = new Float64Array(cols.n).fill(NaN);
  const per = preds.shape[0] === cols.n ? 1 : preds.shape[0] / cols.n;
  const f1 = new Float64Array(cols.n).fill(NaN);
  // Generated ids: every sequence of every sample, at i * per + j (generate()'s order, best first), scored
  // against the sample's one label; the sample's own columns are its first sequence's.
  const seqText: string[] = [];
  const seqCorrect = new Int8Array(aligned ? 0 : cols.n * per).fill(-1);
  const seqF1 = new Float64Array(aligned ? 0 : cols.n * per).fill(NaN);
  /** Decoder-only generate(): each sequence's new tokens alone (undefined where its row does not start with the prompt). */
  const seqNew: (string | undefined)[] = [];

  if (aligned) {
    const T = preds.shape[1];
    const V = logits ? preds.shape[2] : 0;
    const get = numbers(preds);
    const lab = numbers(labels!);
    const W = labels!.shape[1];
    for (let i = 0; i < cols.n; i++) {
      const p: number[] = [];
      const g: number[] = [];
      let conf = 0;
      let ce = 0;
      for (let k = 0; k < T && k + shift < W; k++) {
        const gold = lab(i * W + k + shift);
        if (gold === -100 || gold < 0) continue;
        if (logits) {
          const s = softmaxAt(get, (i * T + k) * V, V, gold);
          p.push(s.arg);
          conf += s.pmax;
          ce += s.ce;
        } else p.push(get(i * T + k));
        g.push(gold);
      }
      if (logits && p.length) {
        cols.confidence[i] = conf / p.length;
        cols.loss[i] = ce / p.length;
      }
      predIds.push(Int32Array.from(p));
      goldIds.push(Int32Array.from(g));
      const pt = decode(p);
      const gt = decode(g);
      predText.push(pt);
      goldText.push(gt);
      if (g.length) cols.correct[i] = (tok ? normalizeAnswer(pt) === normalizeAnswer(gt) : p.every((v, k) => v === g[k])) ? 1 : 0;
      if (g.length) tokenAccuracy[i] = p.filter((v, k) => v === g[k]).length / g.length;
    }
  } else {
    const p2 = preds.ndim === 2 ? preds : undefined;
    if (per > 1) {
      ctx.note(
        `num_return_sequences ${per}: predictions hold ${per} rows per sample (rows i*${per} to i*${per}+${per - 1} are sample i's sequences, best first); ` +
          `each row shows all ${per}, ranked, scored against the sample's one label; its sort, "Wrong only" and single-value columns use the best (#1)`,
      );
    }
    if (!p2) ctx.note(`predictions are ${preds.dtype}[${preds.shape.join(', ')}]: neither generated ids [samples, tokens] nor logits [samples, tokens, vocab], so nothing is decoded`);
    // Seq2SeqTrainer pads with the pad token, else eos (GPT-2 has no pad token)
    const padId = tok ? tok.specialTokenId('pad_token') ?? tok.specialTokenId('eos_token') : undefined;
    const inputs = firstTensor(src.evalPred.inputs);
    const prompts = inputs && inputs.ndim === 2 && inputs.shape[0] === cols.n && !inputs.dtype.startsWith('float') ? inputs : undefined;
    for (let i = 0; i < cols.n; i++) {
      const g = labels ? rowIds(labels, i) : undefined;
      const gt = g ? decode(g) : undefined;
      goldIds.push(g ? Int32Array.from(g) : undefined);
      goldText.push(gt);
      // A decoder-only row starts with its prompt: the labels (the prompt ids, run_clm's collator) or the inputs.
      const promptIds = causal && p2 ? [g, prompts ? rowIds(prompts, i) : undefined].filter((x): x is number[] => !!x && x.length > 0) : [];
      for (let j = 0; j < per; j++) {
        const k = i * per + j;
        const p = p2 ? rowIds(p2, k) : [];
        if (j === 0) predIds.push(Int32Array.from(p));
        const pt = p2 ? decode(p) : '';
        seqText.push(pt);
        if (causal && p2) {
          const cut = promptIds.map((q) => promptEnd(p, q, padId)).find((e) => e >= 0);
          seqNew.push(cut === undefined ? undefined : decode(p.slice(cut)));
        }
        // Without a tokenizer the special tokens (decoder start, eos, padding) cannot be told apart: unknown.
        if (gt !== undefined && tok && p2) {
          seqCorrect[k] = normalizeAnswer(pt) === normalizeAnswer(gt) ? 1 : 0;
          seqF1[k] = squadF1(pt, gt);
        }
      }
      predText.push(seqText[i * per]);
      cols.correct[i] = seqCorrect[i * per];
      f1[i] = seqF1[i * per];
    }
  }

  const piece = (id: number) => (tok ? tok.idToToken(id) ?? String(id) : String(id));
  // Teacher forcing: the share of the sample's (next) tokens predicted right, as the built-in token accuracy counts
  // them; generated text: exact match and token F1 after SQuAD normalisation.
  const scores: Score[] = aligned ? [{ name: 'token_accuracy', values: tokenAccuracy }] : labels && tok ? [correctScore('exact_match', cols.correct), { name: 'f1', values: f1 }] : [];
  const scoreOf = (k: number) => (scores.length ? [seqCorrect[k] === -1 ? NaN : seqCorrect[k], seqF1[k]] : undefined);
  const sequence = (k: number): SequenceView => {
    const s: SequenceView = { prediction: seqText[k] };
    if (seqNew[k] !== undefined) s.continuation = seqNew[k];
    if (seqCorrect[k] !== -1) s.correct = seqCorrect[k] === 1;
    const sc = scoreOf(k);
    if (sc) s.scores = sc;
    return s;
  };
  return {
    scores,
    ...(per > 1 && !aligned ? { sequencesPerSample: per } : {}),
    describe(i, v) {
      v.prediction = predText[i];
      if (goldText[i] !== undefined) v.label = goldText[i];
      if (aligned) {
        // The token-level view: each actual (next) token with what the model predicted at its position.
        const p = predIds[i];
        const g = goldIds[i]!;
        v.tokens = Array.from(g, (gold, k): TokenTag => ({ token: piece(gold), pred: piece(p[k]), gold: piece(gold), predId: p[k] === gold ? 0 : 1 }));
        return;
      }
      if (seqNew[i * per] !== undefined) v.continuation = seqNew[i * per];
      if (per > 1) v.sequences = Array.from({ length: per }, (_, j) => sequence(i * per + j));
    },
    // Every sequence of the sample is searchable, not only the best.
    searchable: (i) => `${aligned ? predText[i] : seqText.slice(i * per, (i + 1) * per).join('\n')}\n${goldText[i] ?? ''}`,
    hasGold: () => false,
    hasPredicted: () => false,
    hasPair: () => false,
  };
}

/**
 * Where the prompt `q` ends in a decoder-only generated row `p` (prompt, then the new tokens): the row after
 * its left padding (a run of one id) starts with `q`; -1 when it does not. `q` may end in padding with `pad`
 * (Seq2SeqTrainer pads the prompt labels as it pads generated ids), which the row need not repeat.
 */
export function promptEnd(p: readonly number[], q: readonly number[], pad?: number): number {
  let len = q.length;
  if (pad !== undefined) while (len > 0 && q[len - 1] === pad) len--;
  if (len === 0) return -1;
  for (let start = 0; start + len <= p.length; start++) {
    if (start > 0 && p[start - 1] !== p[0]) return -1; // past the padding
    let k = 0;
    while (k < len && p[start + k] === q[k]) k++;
    if (k === len) return start + len;
  }
  return -1;
}
