// Extractive QA rows: the predicted span (argmax start, argmax end) decoded from the inputs, against the
// dataset's answers. Correct is SQuAD exact match (normalised text, any reference; no answer matches an
// empty prediction, as SQuAD v2 counts it); without text to compare, the token positions must match.
import { getField } from '../../data';
import { normalizeAnswer, squadF1 } from '../../metrics/library/squad';
import { NONE, firstTensor, labelsByName, numbers, softmaxAt, tupleMembers } from './arrays';
import { TaskContext, TaskRows, correctScore } from './types';

/** One question's exact match (0/1) and F1 against its reference answers; SQuAD v2: no reference matches only the empty answer. */
export function answerScores(text: string, answers: readonly string[]): { exact: number; f1: number } {
  const p = normalizeAnswer(text);
  const exact = answers.length === 0 ? (p === '' ? 1 : 0) : answers.some((r) => normalizeAnswer(r) === p) ? 1 : 0;
  return { exact, f1: answers.length === 0 ? exact : squadF1(text, answers) };
}

/** SQuAD-style answers: a string, `{text: [..]}` or a list of strings; [] is "no answer"; undefined if absent. */
export function answerTexts(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  const t = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>).text : v;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x) => x != null).map(String);
  return undefined;
}

export function qaRows(ctx: TaskContext): TaskRows {
  const { cols, src } = ctx;
  const [start, end] = tupleMembers(src.evalPred.predictions);
  // label_names may name one position, or both in another order (docs/trainer-semantics.md#which-batch-keys-are-labels)
  const gold = labelsByName(src.evalPred.labelIds, src.labelNames ?? ['start_positions', 'end_positions']);
  const [gs, ge] = [gold.start_positions, gold.end_positions];
  const inputs = firstTensor(src.evalPred.inputs);
  const canDecode = !!(inputs && src.tokenizer && inputs.ndim === 2);
  if (!canDecode) {
    ctx.note(
      src.noTokenizerReason
        ? `answer spans are shown as token positions: ${src.noTokenizerReason}`
        : 'answer spans are shown as token positions: the cache has no inputs (include_for_metrics=["inputs"]) or no tokenizer to decode them',
    );
  }
  const spans: [number, number, number, number][] = [];
  const f1 = new Float64Array(cols.n).fill(NaN);
  const predText: string[] = [];
  const answersOf = (i: number): string[] | undefined => {
    const { dataset: ds, labelColumn } = src;
    if (!ds || !labelColumn || i >= ds.numRows) return undefined;
    return answerTexts(getField(ds.row(i), labelColumn));
  };
  const span = (i: number, s: number, e: number): string => {
    if (s < 0 || e < s) return '';
    if (canDecode) return src.tokenizer!.decode(inputs!.row(i).data.subarray(s, e + 1) as ArrayLike<number | bigint>, { skipSpecialTokens: true });
    return `tokens ${s}–${e}`;
  };
  if (start && end && start.ndim === 2) {
    const T = start.shape[1];
    const sg = numbers(start);
    const eg = numbers(end);
    for (let i = 0; i < cols.n; i++) {
      const g1 = gs && gs.ndim === 1 ? gs.at(i) : NONE;
      const g2 = ge && ge.ndim === 1 ? ge.at(i) : NONE;
      const a = softmaxAt(sg, i * T, T, g1);
      const b = softmaxAt(eg, i * T, T, g2);
      cols.predId[i] = a.arg; // start token
      cols.goldId[i] = g1;
      cols.confidence[i] = a.pmax * b.pmax;
      if (g1 !== NONE && g2 !== NONE) cols.loss[i] = (a.ce + b.ce) / 2;
      spans.push([a.arg, b.arg, g1, g2]);
      const text = span(i, a.arg, b.arg);
      predText.push(text);
      const answers = canDecode ? answersOf(i) : undefined;
      if (answers) {
        const sc = answerScores(text, answers);
        cols.correct[i] = sc.exact;
        f1[i] = sc.f1;
      } else if (g1 !== NONE && g2 !== NONE) cols.correct[i] = a.arg === g1 && b.arg === g2 ? 1 : 0;
    }
  }
  const goldText = (i: number): string | undefined => {
    const answers = answersOf(i);
    if (answers) return answers.length ? answers[0] : '(no answer)';
    const sp = spans[i];
    return sp && sp[2] !== NONE ? span(i, sp[2], sp[3]) : undefined;
  };
  return {
    // SQuAD's exact match and F1 of this question (max over its answers), as 0..1: their means are squad's scores / 100.
    scores: [correctScore('exact_match', cols.correct), { name: 'f1', values: f1 }],
    describe(i, v) {
      if (!spans[i]) return;
      v.prediction = predText[i];
      const g = goldText(i);
      if (g !== undefined) v.label = g;
    },
    searchable: (i) => predText[i] ?? '',
  };
}
