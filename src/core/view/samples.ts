// The per-sample table behind the prediction view: one pass over the arrays fills compact typed columns
// (predicted id, gold id, correct, confidence, loss) so filtering and sorting 1,000,000 rows touches no
// objects; text, decoded spans and token tags are built only for the rows a window asks for.
import type { Dataset } from '../data';
import { getField, renderTemplate } from '../data';
import { EvalpredError } from '../errors';
import type { LoadedTokenizer } from '../text';
import { EvalPredictionData, Tensor, TensorNode, firstTensor } from '../tensor/tensor';
import type { RowView, TaskKind, TokenTag } from '../../shared/protocol';

export interface SampleSource {
  evalPred: EvalPredictionData;
  task: TaskKind;
  id2label?: Record<number, string>;
  /** The evaluated dataset, for each sample's text (and QA answers). */
  dataset?: Dataset;
  textColumn?: string;
  pairColumn?: string;
  template?: string;
  labelColumn?: string;
  /** For decoding `inputs` when there is no dataset text, and QA spans. */
  tokenizer?: LoadedTokenizer;
}

function tupleMembers(node: TensorNode | null): Tensor[] {
  if (!node || node instanceof Tensor || !('tuple' in node)) return [];
  return node.tuple.filter((t): t is Tensor => t instanceof Tensor);
}

/** Reads element i as a number, whatever the storage (float16 bits, bigint). */
function numbers(t: Tensor): (i: number) => number {
  const d = t.data;
  if (t.dtype === 'float16' || d instanceof BigInt64Array) return (i) => t.at(i);
  return (i) => d[i] as number;
}

/** softmax statistics of `len` logits at `base` (stride 1): max prob, argmax, and -log p[gold] (NaN without gold). */
function softmaxAt(get: (i: number) => number, base: number, len: number, gold: number): { arg: number; pmax: number; ce: number } {
  let arg = 0;
  let m = get(base);
  for (let k = 1; k < len; k++) {
    const v = get(base + k);
    if (v > m || (v !== v && m === m)) {
      m = v;
      arg = k;
    }
  }
  let s = 0;
  for (let k = 0; k < len; k++) s += Math.exp(get(base + k) - m);
  const ce = gold >= 0 && gold < len ? Math.log(s) - (get(base + gold) - m) : NaN;
  return { arg, pmax: 1 / s, ce };
}

const NONE = -1;

export class SampleTable {
  readonly n: number;
  readonly task: TaskKind;
  /** id2label names in id order (or "0", "1", ... when the model has no id2label). */
  readonly labels: string[];
  /** Per sample (NONE when not applicable: token classification and QA keep their details per row). */
  readonly predId: Int32Array;
  readonly goldId: Int32Array;
  /** 1 correct, 0 wrong, -1 unknown (no labels). */
  readonly correct: Int8Array;
  readonly confidence: Float64Array;
  readonly loss: Float64Array;
  /** Token classification: per-sample tag ids of the labelled tokens (pred, gold). */
  private readonly tokenTags?: { pred: Int32Array; gold: Int32Array }[];
  private readonly textCache = new Map<number, string>();
  private readonly regression: boolean;

  constructor(private readonly src: SampleSource) {
    this.task = src.task;
    const preds = firstTensor(src.evalPred.predictions);
    if (!preds || preds.ndim === 0) {
      throw new EvalpredError('the prediction view needs predictions with a sample axis; this EvalPrediction has none', { tensor: 'predictions' });
    }
    const n = (this.n = preds.shape[0]);
    this.predId = new Int32Array(n).fill(NONE);
    this.goldId = new Int32Array(n).fill(NONE);
    this.correct = new Int8Array(n).fill(-1);
    this.confidence = new Float64Array(n).fill(NaN);
    this.loss = new Float64Array(n).fill(NaN);
    const labelsT = firstTensor(src.evalPred.labelIds);
    const numClasses = src.task === 'question-answering' ? 0 : preds.dtype.startsWith('float') ? preds.shape[preds.ndim - 1] ?? 0 : 0;
    this.regression = src.task === 'sequence-classification' && preds.ndim === 2 && numClasses === 1;
    const maxId = Math.max(numClasses - 1, ...Object.keys(src.id2label ?? {}).map(Number).filter(Number.isInteger));
    this.labels = Array.from({ length: Math.max(0, maxId + 1) }, (_, k) => src.id2label?.[k] ?? String(k));
    if (this.task === 'token-classification') this.tokenTags = this.fillTokens(preds, labelsT);
    else if (this.task === 'question-answering') this.fillQa();
    else if (!this.regression) this.fillClassification(preds, labelsT);
  }

  private gold(labels: Tensor | undefined, i: number): number {
    if (!labels || labels.ndim !== 1 || labels.dtype.startsWith('float')) return NONE;
    const g = labels.at(i);
    return g < 0 ? NONE : g;
  }

  private fillClassification(preds: Tensor, labels: Tensor | undefined): void {
    const get = numbers(preds);
    if (preds.ndim === 2 && (preds.dtype === 'float32' || preds.dtype === 'float64') && labels?.dtype === 'int64' && labels.ndim === 1) {
      this.fillClassificationFast(preds.data as Float32Array | Float64Array, preds.shape[1], labels.data as BigInt64Array);
    } else if (preds.ndim === 2 && preds.dtype.startsWith('float')) {
      const c = preds.shape[1];
      for (let i = 0; i < this.n; i++) {
        const g = this.gold(labels, i);
        const s = softmaxAt(get, i * c, c, g);
        this.predId[i] = s.arg;
        this.confidence[i] = s.pmax;
        this.loss[i] = s.ce;
        this.goldId[i] = g;
        if (g !== NONE) this.correct[i] = s.arg === g ? 1 : 0;
      }
    } else if (preds.ndim === 1 && !preds.dtype.startsWith('float')) {
      // Already argmax-ed (preprocess_logits_for_metrics): no probabilities, so no confidence or loss.
      for (let i = 0; i < this.n; i++) {
        const g = this.gold(labels, i);
        this.predId[i] = get(i);
        this.goldId[i] = g;
        if (g !== NONE) this.correct[i] = get(i) === g ? 1 : 0;
      }
    }
  }

  /** The common case read straight from the typed arrays (a 1M x C table is built in tens of milliseconds). */
  private fillClassificationFast(x: Float32Array | Float64Array, c: number, labels: BigInt64Array): void {
    for (let i = 0, base = 0; i < this.n; i++, base += c) {
      let arg = 0;
      let m = x[base];
      for (let k = 1; k < c; k++) {
        const v = x[base + k];
        if (v > m || (v !== v && m === m)) {
          m = v;
          arg = k;
        }
      }
      let s = 0;
      for (let k = 0; k < c; k++) s += Math.exp(x[base + k] - m);
      const g = Number(labels[i]);
      this.predId[i] = arg;
      this.confidence[i] = 1 / s;
      if (g >= 0 && g < c) {
        this.goldId[i] = g;
        this.loss[i] = Math.log(s) - (x[base + g] - m);
        this.correct[i] = arg === g ? 1 : 0;
      }
    }
  }

  private fillTokens(preds: Tensor, labels: Tensor | undefined): { pred: Int32Array; gold: Int32Array }[] {
    const out: { pred: Int32Array; gold: Int32Array }[] = [];
    const get = numbers(preds);
    const logits = preds.ndim === 3 && preds.dtype.startsWith('float');
    const T = preds.shape[1] ?? 0;
    const C = logits ? preds.shape[2] : 0;
    const lab = labels && labels.ndim === 2 && labels.shape[1] === T ? labels : undefined;
    const labGet = lab ? numbers(lab) : undefined;
    for (let i = 0; i < this.n; i++) {
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
        this.confidence[i] = conf / m;
        this.loss[i] = labGet ? ce / m : NaN;
      }
      if (labGet) this.correct[i] = p.every((v, k) => v === g[k]) ? 1 : 0;
      out.push({ pred: Int32Array.from(p), gold: Int32Array.from(g) });
    }
    return out;
  }

  private fillQa(): void {
    const [start, end] = tupleMembers(this.src.evalPred.predictions);
    if (!start || !end || start.ndim !== 2) return;
    const [gs, ge] = tupleMembers(this.src.evalPred.labelIds);
    const T = start.shape[1];
    const sg = numbers(start);
    const eg = numbers(end);
    for (let i = 0; i < this.n; i++) {
      const g1 = gs && gs.ndim === 1 ? gs.at(i) : NONE;
      const g2 = ge && ge.ndim === 1 ? ge.at(i) : NONE;
      const a = softmaxAt(sg, i * T, T, g1);
      const b = softmaxAt(eg, i * T, T, g2);
      this.predId[i] = a.arg; // start token
      this.goldId[i] = g1;
      this.confidence[i] = a.pmax * b.pmax;
      if (g1 !== NONE && g2 !== NONE) {
        this.loss[i] = (a.ce + b.ce) / 2;
        this.correct[i] = a.arg === g1 && b.arg === g2 ? 1 : 0;
      }
      this.qaSpans.push([a.arg, b.arg, g1, g2]);
    }
  }
  private readonly qaSpans: [number, number, number, number][] = [];

  name(id: number): string {
    return id === NONE ? '' : this.labels[id] ?? String(id);
  }

  /** The sample's input text: template / text column (+ pair), else decoded inputs, else ''. */
  text(i: number): string {
    const hit = this.textCache.get(i);
    if (hit !== undefined) return hit;
    const t = this.computeText(i);
    if (this.textCache.size > 20000) this.textCache.clear();
    this.textCache.set(i, t);
    return t;
  }

  private computeText(i: number): string {
    const { dataset: ds, textColumn, pairColumn, template, tokenizer } = this.src;
    if (ds && i < ds.numRows) {
      if (template) return renderTemplate(template, ds, i);
      if (textColumn) {
        const row = ds.row(i);
        const show = (v: unknown) => (Array.isArray(v) ? v.map(String).join(' ') : v == null ? '' : String(v));
        const a = show(getField(row, textColumn));
        return pairColumn ? `${a} | ${show(getField(row, pairColumn))}` : a;
      }
    }
    const inputs = firstTensor(this.src.evalPred.inputs);
    if (inputs && tokenizer && inputs.ndim === 2 && i < inputs.shape[0]) {
      return tokenizer.decode(inputs.row(i).data as ArrayLike<number | bigint>, { skipSpecialTokens: true });
    }
    return '';
  }

  /** Decode tokens [s, e] of sample i's inputs (QA spans). */
  private span(i: number, s: number, e: number): string {
    const inputs = firstTensor(this.src.evalPred.inputs);
    if (s < 0 || e < s) return '';
    if (inputs && this.src.tokenizer && inputs.ndim === 2) {
      return this.src.tokenizer.decode(inputs.row(i).data.subarray(s, e + 1) as ArrayLike<number | bigint>, { skipSpecialTokens: true });
    }
    return `tokens ${s}–${e}`;
  }

  private tokensOf(i: number): TokenTag[] {
    const tags = this.tokenTags![i];
    const words = this.src.dataset && this.src.textColumn && i < this.src.dataset.numRows ? getField(this.src.dataset.row(i), this.src.textColumn) : undefined;
    const inputs = firstTensor(this.src.evalPred.inputs);
    const fromWords = Array.isArray(words) && words.length === tags.pred.length;
    let fromIds: string[] | undefined;
    if (!fromWords && inputs && this.src.tokenizer && inputs.ndim === 2) {
      const labels = firstTensor(this.src.evalPred.labelIds);
      const row = inputs.row(i);
      fromIds = [];
      for (let k = 0; k < row.size; k++) {
        if (labels && labels.ndim === 2 && labels.get(i, k) === -100) continue;
        fromIds.push(this.src.tokenizer.idToToken(row.at(k)) ?? String(row.at(k)));
      }
    }
    return Array.from(tags.pred, (p, k) => ({
      token: fromWords ? String((words as unknown[])[k]) : fromIds?.[k] ?? `#${k}`,
      pred: this.name(p),
      predId: p,
      ...(tags.gold[k] !== NONE ? { gold: this.name(tags.gold[k]) } : {}),
    }));
  }

  /** Does sample i carry gold tag / predicted tag `id` (token classification: any token). */
  hasGold(i: number, id: number): boolean {
    if (this.tokenTags) return this.tokenTags[i].gold.includes(id);
    return this.goldId[i] === id;
  }
  hasPredicted(i: number, id: number): boolean {
    if (this.tokenTags) return this.tokenTags[i].pred.includes(id);
    return this.predId[i] === id;
  }
  /** Token classification: some token has gold `g` and prediction `p` (a confusion cell). */
  hasPair(i: number, g: number, p: number): boolean {
    if (!this.tokenTags) return this.goldId[i] === g && this.predId[i] === p;
    const t = this.tokenTags[i];
    for (let k = 0; k < t.pred.length; k++) if (t.gold[k] === g && t.pred[k] === p) return true;
    return false;
  }
  /** Token classification: every labelled (gold, predicted) pair, for the confusion matrix. */
  *tokenPairs(): Generator<[number, number]> {
    for (const t of this.tokenTags ?? []) for (let k = 0; k < t.pred.length; k++) if (t.gold[k] !== NONE) yield [t.gold[k], t.pred[k]];
  }

  row(i: number): RowView {
    const v: RowView = { index: i, text: this.text(i), prediction: '' };
    const num = (x: number) => (Number.isFinite(x) ? x : undefined);
    if (this.task === 'token-classification') {
      const tokens = this.tokensOf(i);
      v.tokens = tokens;
      v.prediction = tokens.map((t) => t.pred).join(' ');
      if (tokens.some((t) => t.gold !== undefined)) v.label = tokens.map((t) => t.gold ?? '').join(' ');
    } else if (this.task === 'question-answering') {
      const sp = this.qaSpans[i];
      if (sp) {
        v.prediction = this.span(i, sp[0], sp[1]);
        const answer = this.answerText(i);
        if (answer !== undefined) v.label = answer;
        else if (sp[2] !== NONE) v.label = this.span(i, sp[2], sp[3]);
      }
    } else if (this.regression) {
      const p = firstTensor(this.src.evalPred.predictions)!;
      v.prediction = String(+p.at(i).toPrecision(4));
      const l = firstTensor(this.src.evalPred.labelIds);
      if (l && l.ndim === 1) v.label = String(+l.at(i).toPrecision(4));
    } else {
      v.prediction = this.name(this.predId[i]);
      if (this.goldId[i] !== NONE) v.label = this.name(this.goldId[i]);
    }
    if (this.correct[i] !== -1) v.correct = this.correct[i] === 1;
    const c = num(this.confidence[i]);
    if (c !== undefined) v.confidence = c;
    const l = num(this.loss[i]);
    if (l !== undefined) v.loss = l;
    return v;
  }

  /** SQuAD-style answers column: a string, `{text: [..]}` or a list of strings. */
  private answerText(i: number): string | undefined {
    const { dataset: ds, labelColumn } = this.src;
    if (!ds || !labelColumn || i >= ds.numRows) return undefined;
    const v = getField(ds.row(i), labelColumn);
    if (typeof v === 'string') return v;
    const t = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>).text : v;
    if (Array.isArray(t) && t.length) return String(t[0]);
    return undefined;
  }
}
