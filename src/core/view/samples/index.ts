// The per-sample table behind the prediction view: one pass over the arrays fills compact typed columns
// (predicted id, gold id, correct, confidence, loss) so filtering and sorting 1,000,000 rows touches no
// objects; text, decoded spans and token tags are built only for the rows a window asks for. What a row
// shows and when it is correct depends on the task: one file per task family beside this one, as the model
// heads are (src/core/model/heads/).
import { getField, renderTemplate } from '../../data';
import { EvalpredError } from '../../errors';
import type { RowView, TaskKind } from '../../../shared/protocol';
import { NONE, cellText, firstTensor } from './arrays';
import { classificationRows } from './classification';
import { generationRows } from './generation';
import { qaRows } from './questionAnswering';
import { qaExampleRows } from './qaExamples';
import { tokenRows } from './tokenClassification';
import type { SampleColumns, SampleSource, Score, TaskContext, TaskRows } from './types';

export { firstTensor } from './arrays';

export type { SampleColumns, SampleSource, Score, TaskContext, TaskRows } from './types';

export class SampleTable implements SampleColumns {
  readonly n: number;
  readonly task: TaskKind;
  /** id2label names in id order (or "0", "1", ... when the model has no id2label). */
  readonly labels: string[];
  readonly predId: Int32Array;
  readonly goldId: Int32Array;
  readonly correct: Int8Array;
  readonly confidence: Float64Array;
  readonly loss: Float64Array;
  /** What the table could not show and why (decoded text without a tokenizer, ...). */
  readonly notes: string[] = [];
  private readonly rows: TaskRows;
  /** Per-sample metrics of the task (accuracy; exact match and F1; token accuracy), a value per sample. */
  readonly scores: Score[];
  /** generate()'s num_return_sequences n: prediction rows per sample, each row showing its n sequences (1: one each). */
  readonly sequencesPerSample: number;
  private readonly textCache = new Map<number, string>();

  constructor(private readonly src: SampleSource) {
    this.task = src.task;
    const preds = firstTensor(src.evalPred.predictions);
    if (!preds || preds.ndim === 0) {
      throw new EvalpredError('the prediction view needs predictions with a sample axis; this EvalPrediction has none', { tensor: 'predictions' });
    }
    // doc stride: the loop ran over features, the table shows the examples their answers were picked for;
    // num_return_sequences n: N x n generated rows for N samples, a sample is a block of n rows (generation.ts)
    const per = src.numReturnSequences && src.numReturnSequences > 1 && preds.shape[0] % src.numReturnSequences === 0 ? src.numReturnSequences : 1;
    const n = (this.n = src.qa ? src.qa.predictions.length : preds.shape[0] / per);
    this.predId = new Int32Array(n).fill(NONE);
    this.goldId = new Int32Array(n).fill(NONE);
    this.correct = new Int8Array(n).fill(-1);
    this.confidence = new Float64Array(n).fill(NaN);
    this.loss = new Float64Array(n).fill(NaN);
    const classifier = src.task === 'sequence-classification' || src.task === 'token-classification' || src.task === 'unknown';
    const numClasses = classifier && preds.dtype.startsWith('float') ? preds.shape[preds.ndim - 1] ?? 0 : 0;
    const maxId = Math.max(numClasses - 1, ...Object.keys(src.id2label ?? {}).map(Number).filter(Number.isInteger));
    this.labels = Array.from({ length: Math.max(0, maxId + 1) }, (_, k) => src.id2label?.[k] ?? String(k));
    const ctx: TaskContext = {
      src,
      cols: this,
      labels: this.labels,
      name: (id) => this.name(id),
      text: (i) => this.text(i),
      note: (m) => {
        if (!this.notes.includes(m)) this.notes.push(m);
      },
    };
    switch (src.task) {
      case 'token-classification':
        this.rows = tokenRows(ctx, preds);
        break;
      case 'question-answering':
        this.rows = src.qa ? qaExampleRows(ctx, src.qa) : qaRows(ctx);
        break;
      case 'seq2seq-lm':
        this.rows = generationRows(ctx, false);
        break;
      case 'causal-lm':
        this.rows = generationRows(ctx, true);
        break;
      default:
        this.rows = classificationRows(ctx, preds);
    }
    this.scores = this.rows.scores ?? [];
    this.sequencesPerSample = this.rows.sequencesPerSample ?? 1;
  }

  /** The values of per-sample metric `name`, or undefined when the task has no such metric. */
  score(name: string): Float64Array | undefined {
    return this.scores.find((s) => s.name === name)?.values;
  }

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
        const a = cellText(getField(row, textColumn));
        return pairColumn ? `${a} | ${cellText(getField(row, pairColumn))}` : a;
      }
    }
    const inputs = firstTensor(this.src.evalPred.inputs);
    if (inputs && tokenizer && inputs.ndim === 2 && i < inputs.shape[0]) {
      return tokenizer.decode(inputs.row(i).data as ArrayLike<number | bigint>, { skipSpecialTokens: true });
    }
    return '';
  }

  /** Decoded prediction and label text the search box also matches ('' when the task has none). */
  searchable(i: number): string {
    return this.rows.searchable?.(i) ?? '';
  }

  private searchIndex: string[] | undefined;
  private searchBuilt = 0;

  /** What the search box matches for sample i, lower-cased: kept once built (see buildSearchIndex). */
  searchText(i: number): string {
    if (this.searchIndex && i < this.searchBuilt) return this.searchIndex[i];
    return `${this.text(i)}\n${this.searchable(i)}`.toLowerCase();
  }

  /**
   * Builds the search strings of the next `count` samples; true when all are built. The view model runs it in
   * slices between messages after the table is shown, so the first search over 1,000,000 rows does not pay
   * for reading every dataset row (bench/viewQuery.ts).
   */
  buildSearchIndex(count: number): boolean {
    this.searchIndex ??= new Array<string>(this.n);
    const end = Math.min(this.n, this.searchBuilt + count);
    for (let i = this.searchBuilt; i < end; i++) this.searchIndex[i] = `${this.computeText(i)}\n${this.searchable(i)}`.toLowerCase();
    this.searchBuilt = end;
    return end >= this.n;
  }

  /** Does sample i carry gold tag / predicted tag `id` (token classification: any token). */
  hasGold(i: number, id: number): boolean {
    return this.rows.hasGold ? this.rows.hasGold(i, id) : this.goldId[i] === id;
  }
  hasPredicted(i: number, id: number): boolean {
    return this.rows.hasPredicted ? this.rows.hasPredicted(i, id) : this.predId[i] === id;
  }
  /** Some (gold, predicted) pair of the sample is (g, p): a confusion cell. */
  hasPair(i: number, g: number, p: number): boolean {
    return this.rows.hasPair ? this.rows.hasPair(i, g, p) : this.goldId[i] === g && this.predId[i] === p;
  }
  /** Token classification: every labelled (gold, predicted) pair, for the confusion matrix. */
  *tokenPairs(): Generator<[number, number]> {
    if (this.rows.tokenPairs) yield* this.rows.tokenPairs();
  }

  row(i: number): RowView {
    const v: RowView = { index: i, text: this.text(i), prediction: '' };
    this.rows.describe(i, v);
    if (this.correct[i] !== -1) v.correct = this.correct[i] === 1;
    if (Number.isFinite(this.confidence[i])) v.confidence = this.confidence[i];
    if (Number.isFinite(this.loss[i])) v.loss = this.loss[i];
    if (this.scores.length) v.scores = this.scores.map((s) => s.values[i]);
    return v;
  }
}
