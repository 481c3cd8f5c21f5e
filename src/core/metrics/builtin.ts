// The metrics `evalpred run` reports when no metric file is given, so a first run (and the demo) shows
// numbers: accuracy and F1 for classification, seqeval entity scores for token classification, run_clm's
// shifted token accuracy for causal LMs, and run_summarization's ROUGE + gen_len for seq2seq generation.
import { accuracy, f1, rouge, seqevalScores } from './library';
import { Described } from './postprocess';
import { EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';
import type { GenerativeTaskName, TaskName } from '../tasks';
import type { LoadedTokenizer } from '../text';

/** What the generative defaults need beyond the arrays. */
export interface BuiltinContext {
  /** The model folder's tokenizer: seq2seq-lm decodes predictions and labels with it. */
  tokenizer?: LoadedTokenizer;
  /** Seq2seq metrics are reported only for generated ids (run_summarization passes compute_metrics only then). */
  predictWithGenerate?: boolean;
}

const num = (value: number): Described => ({ type: 'number', value: Number.isNaN(value) ? 'NaN' : value });

/** Returns null when there is nothing built-in to compute (no labels, or a task without a default). */
export function builtinMetrics(ep: EvalPredictionData, task: TaskName, id2label?: Record<number, string>, ctx: BuiltinContext = {}): Described | null {
  if (task === 'causal-lm' || task === 'seq2seq-lm') {
    const entries = generativeMetrics(ep, task, ctx);
    return entries && { type: 'mapping', entries: entries.map(([k, v]) => [{ type: 'string', value: k }, num(v)]) };
  }
  const preds = ep.predictions;
  const labels = ep.labelIds;
  if (!(preds instanceof Tensor) || !(labels instanceof Tensor)) return null;
  const entries: [string, number][] = [];
  if (task === 'sequence-classification' && labels.dtype === 'int64' && labels.ndim === 1) {
    const ids = preds.dtype === 'int64' && preds.ndim === 1 ? preds : preds.argmax(-1);
    const classes = preds.ndim === 2 ? preds.shape[1] : Math.max(ids.size ? Number(Math.max(...Array.from(ids.data as BigInt64Array, Number))) + 1 : 0, 2);
    entries.push(['accuracy', accuracy(ids, labels)]);
    entries.push(['f1', classes === 2 ? f1(ids, labels, { average: 'binary' }) : f1(ids, labels, { average: 'macro' })]);
  } else if (task === 'token-classification' && labels.ndim === 2) {
    const ids = preds.ndim === 3 ? preds.argmax(-1) : preds;
    const name = (i: number) => id2label?.[i] ?? String(i);
    const predTags: string[][] = [];
    const goldTags: string[][] = [];
    for (let r = 0; r < labels.shape[0]; r++) {
      const p: string[] = [];
      const g: string[] = [];
      for (let k = 0; k < labels.shape[1]; k++) {
        const l = labels.get(r, k);
        if (l === -100) continue;
        g.push(name(l));
        p.push(name(ids.get(r, k)));
      }
      predTags.push(p);
      goldTags.push(g);
    }
    const s = seqevalScores(predTags, goldTags, { scheme: 'IOB2' });
    entries.push(['precision', s.precision], ['recall', s.recall], ['f1', s.f1], ['accuracy', s.accuracy]);
  } else return null;
  return { type: 'mapping', entries: entries.map(([k, v]) => [{ type: 'string', value: k }, num(v)]) };
}

/** The examples' compute_metrics take predictions[0] when predictions is a tuple. */
function firstOf(node: TensorNode | null): Tensor | null {
  if (node instanceof Tensor) return node;
  if (node && 'tuple' in node && node.tuple[0] instanceof Tensor) return node.tuple[0];
  return null;
}

function generativeMetrics(ep: EvalPredictionData, task: GenerativeTaskName, ctx: BuiltinContext): [string, number][] | null {
  const preds = firstOf(ep.predictions);
  const labels = ep.labelIds;
  if (!preds || !(labels instanceof Tensor) || labels.ndim !== 2) return null;
  if (task === 'causal-lm') {
    // generated ids (prompt + continuation) do not line up with the labels position by position
    if (ctx.predictWithGenerate) return null;
    const ids = preds.ndim === 3 ? preds.argmax(-1) : preds;
    if (ids.ndim !== 2 || ids.shape[0] !== labels.shape[0] || ids.shape[1] !== labels.shape[1]) return null;
    return [['accuracy', shiftedAccuracy(ids, labels)]];
  }
  if (!ctx.predictWithGenerate || !ctx.tokenizer || preds.ndim !== 2 || preds.dtype === 'float32' || preds.dtype === 'float64' || preds.dtype === 'float16') return null;
  const tok = ctx.tokenizer;
  const pad = tok.padTokenId;
  // run_summarization: -100 -> pad id, batch_decode(skip_special_tokens=True), ROUGE x 100 rounded to 4 places,
  // gen_len = mean count of non-pad ids per generated row (eos counted, the pad-valued decoder start not).
  const decodeRows = (t: Tensor): { texts: string[]; nonPad: number[] } => {
    const texts: string[] = [];
    const nonPad: number[] = [];
    for (let r = 0; r < t.shape[0]; r++) {
      const row: number[] = [];
      let count = 0;
      for (let k = 0; k < t.shape[1]; k++) {
        const v = t.get(r, k);
        const id = v === -100 ? pad : v;
        row.push(id);
        if (id !== pad) count++;
      }
      texts.push(tok.decode(row, { skipSpecialTokens: true }));
      nonPad.push(count);
    }
    return { texts, nonPad };
  };
  const p = decodeRows(preds);
  const l = decodeRows(labels);
  if (p.texts.length !== l.texts.length || p.texts.length === 0) return null;
  const r = rouge(p.texts, l.texts, { useStemmer: true }); // run_summarization.py: use_stemmer=True
  const pct = (v: number) => Math.round(v * 100 * 1e4) / 1e4;
  return [
    ['rouge1', pct(r.rouge1)],
    ['rouge2', pct(r.rouge2)],
    ['rougeL', pct(r.rougeL)],
    ['gen_len', p.nonPad.reduce((a, b) => a + b, 0) / p.nonPad.length],
  ];
}

/** run_clm's compute_metrics: preds[:, :-1] against labels[:, 1:], here over labels != -100 (padding). */
function shiftedAccuracy(ids: Tensor, labels: Tensor): number {
  const [n, w] = labels.shape;
  let total = 0;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    for (let k = 0; k + 1 < w; k++) {
      const gold = labels.get(r, k + 1);
      if (gold === -100) continue;
      total++;
      if (ids.get(r, k) === gold) correct++;
    }
  }
  return total ? correct / total : NaN;
}
