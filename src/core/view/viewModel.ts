// The host side of the prediction view, pure Node: it answers the webview's messages (ready, row windows,
// row details) from a SampleTable and pushes metrics as they arrive. The extension's panel and the
// headless browser tests both drive this same class, so what the tests see is what VS Code shows.
import path from 'node:path';
import type { Dataset } from '../data';
import { checkedDataset, checkedModelDir } from '../cache/producerPaths';
import { loadDataset } from '../data';
import type { Evaluation } from '../evaluate';
import { FIELD_NAMES, structureOf } from '../inspect/describe';
import { generationForLints } from '../lint/generationInput';
import { Lint, LintInput, lintEvalPrediction, lintEvalPredictionSliced } from '../lint/lints';
import type { RunSettings } from '../loop/settings';
import { isTaskName } from '../tasks';
import { EvalPredictionData, EvalPredictionField, Tensor, firstTensor, walkTensors } from '../tensor/tensor';
import { QaEvalPrediction, postprocessedQa } from '../metrics/qaPostprocess';
import type { LoadedTokenizer } from '../text';
import { loadTokenizer } from '../text';
import { Handlers, answer } from '../../shared/messaging';
import { EvalpredError, isEvalpredError, messageOf } from '../errors';
import { copyText, exportFileName, exportLines, rowsInOrder } from './export';
import { ColumnId, ExportFormat, MAX_WINDOW, Overview, RawArray, RowDetail, TaskKind, TensorCard, ToWebview, ViewRequests, isFromWebview } from '../../shared/protocol';
import { confusionMatrix, tensorCards, tensorCardsOf } from './cards';
import { runSliced } from '../expr';
import { MetricsHistory } from './metricsHistory';
import { RowWindows } from './query';
import { SampleSource, SampleTable } from './samples';

export interface ViewInput extends SampleSource {
  title: string;
  /** The loop's notes and anything the view could not load. */
  notes?: string[];
  settings?: Partial<RunSettings>;
  /** The metric file's text, for the lints that read it. */
  metricSource?: string;
  /** The loop's task name (`task` above only knows the classifier views; the generation lints need causal-lm). */
  loopTask?: string;
  /** The model's generation_config, for the generation lints. */
  generation?: { maxLength?: number; maxNewTokens?: number | null };
  /**
   * The front end's words for notes and lints, which src/core writes naming CLI flags: the extension passes
   * inLaunchTerms (launch attributes, src/core/runtime/launchSettings.ts OPTION_NAMES).
   */
  wording?: (text: string) => string;
}

export interface FromEvaluationOptions {
  /** Override what the manifest's producer names (tests, or a dataset already in memory). */
  dataset?: Dataset;
  tokenizer?: LoadedTokenizer;
  metricSource?: string;
  title?: string;
  wording?: (text: string) => string;
}

/** What the user reads when a request fails: our own errors as they are, anything else marked internal. */
function describeError(e: unknown): string {
  return isEvalpredError(e) ? e.message : `internal error: ${messageOf(e)}`;
}

function knownTask(t: unknown): TaskKind {
  return isTaskName(t) ? t : 'unknown';
}

/**
 * Everything the view needs from an Evaluation: the arrays, id2label and the column plan from the loop record,
 * and the dataset and tokenizer the manifest's producer names (each optional: a cache imported from a GPU box
 * may point at files that are not here; the view then shows decoded inputs or no text, and says why).
 */
export async function viewInputFor(evaluation: Evaluation, opts: FromEvaluationOptions = {}): Promise<ViewInput> {
  const notes = [...(evaluation.loop?.notes ?? [])];
  const producer = evaluation.manifest?.producer ?? {};
  const ds = producer.dataset as { path?: string; split?: string | null } | undefined;
  // Paths named in a manifest are read only after checking them (regular files, size caps): producerPaths.ts.
  const modelDir = evaluation.manifest ? checkedModelDir(evaluation.manifest) : {};
  let dataset = opts.dataset;
  // run_qa (--doc-stride): the loop ran over features; the table shows one row per example (dataset row i) with the
  // answer the post-processing picks over its windows, as compute_metrics gets it.
  const docStride = (producer.settings as Partial<RunSettings> | undefined)?.docStride;
  let qa: QaEvalPrediction | undefined;
  if (docStride !== undefined) {
    try {
      qa = postprocessedQa(evaluation.cacheDir, evaluation.evalPred);
    } catch (e) {
      notes.push(`the post-processed answers could not be made (${messageOf(e)}); the rows are run_qa features`);
    }
    if (qa) {
      notes.push(
        `one row per example: the answer run_qa's post-processing picks over its features (doc stride ${docStride}, ${firstTensor(evaluation.evalPred.predictions)?.shape[0] ?? '?'} features), ` +
          `against the references, with SQuAD exact match and F1 per question, as compute_metrics gets them (docs/trainer-semantics.md#question-answering-with-doc-stride)`,
      );
    } else {
      dataset = undefined; // rows are features: dataset texts would be misplaced
    }
  }
  const featureRows = docStride !== undefined && !qa;
  if (!dataset && !featureRows && evaluation.manifest) {
    const checked = checkedDataset(evaluation.manifest);
    if (checked.note) notes.push(checked.note);
    if (checked.path) {
      try {
        dataset = await loadDataset(checked.path, { split: typeof ds?.split === 'string' ? ds.split : undefined });
      } catch (e) {
        notes.push(`the dataset ${checked.path} could not be read for the sample texts: ${messageOf(e)}`);
      }
    }
  }
  let tokenizer = opts.tokenizer;
  let noTokenizerReason: string | undefined;
  if (!tokenizer && modelDir.note) {
    noTokenizerReason = modelDir.note;
    // Generative and QA tables say it where the decoded text would be (their own note); the others here.
    if (!['seq2seq-lm', 'causal-lm', 'question-answering'].includes(String(evaluation.loop?.task))) notes.push(modelDir.note);
  } else if (!tokenizer && modelDir.path) {
    try {
      tokenizer = await loadTokenizer(modelDir.path);
    } catch (e) {
      noTokenizerReason = `the tokenizer in ${modelDir.path} could not be loaded: ${messageOf(e)}`;
      notes.push(`${noTokenizerReason}; inputs are shown as token ids`);
    }
  } else if (!tokenizer) {
    noTokenizerReason = 'the cache does not name its model folder';
  }
  const cols = evaluation.loop?.info?.columns;
  return {
    title: opts.title ?? path.basename(evaluation.cacheDir),
    evalPred: evaluation.evalPred,
    task: knownTask(evaluation.loop?.task),
    id2label: evaluation.loop?.info?.id2label,
    labelNames: evaluation.loop?.info?.labelNames,
    qa,
    dataset,
    tokenizer,
    noTokenizerReason,
    generated: !!(producer.settings as Partial<RunSettings> | undefined)?.predictWithGenerate,
    numReturnSequences: evaluation.loop?.info?.numReturnSequences,
    textColumn: cols?.text,
    pairColumn: cols?.pair,
    template: cols?.template,
    labelColumn: cols?.label,
    settings: producer.settings as Partial<RunSettings> | undefined,
    metricSource: opts.metricSource,
    wording: opts.wording,
    loopTask: evaluation.loop?.task,
    generation: (producer.settings as Partial<RunSettings> | undefined)?.predictWithGenerate ? generationForLints(modelDir.path) : undefined,
    notes,
  };
}

/**
 * What only the extension host can do for the view: the clipboard and a file the user picks. Injected, so this
 * class stays plain Node; without them (a CLI, a test that does not need them) copy and export answer with an error.
 */
export interface ViewHostServices {
  writeClipboard(text: string): void | Promise<void>;
  /** Ask where to save (the host's save dialog confirms an overwrite) and write the lines; undefined when cancelled. */
  saveExport(suggestedName: string, format: ExportFormat, lines: Iterable<string>): Promise<string | undefined>;
}

const NO_SERVICES: ViewHostServices = {
  writeClipboard: () => {
    throw new EvalpredError('copying needs the extension host (VS Code).');
  },
  saveExport: async () => {
    throw new EvalpredError('exporting needs the extension host (VS Code).');
  },
};

export class PredictionViewModel {
  readonly table: SampleTable;
  private readonly windows: RowWindows;
  private readonly history = new MetricsHistory();
  private overviewCache: Overview | undefined;
  /** The tensor cards, once computed (getSummary computes them in slices first). */
  private cards: TensorCard[] | undefined;
  /** The lints' findings (they read whole arrays too: computed in slices with the cards for file-backed ones). */
  private lints: Lint[] | undefined;

  constructor(
    private readonly input: ViewInput,
    private readonly post: (m: ToWebview) => void,
    private readonly services: ViewHostServices = NO_SERVICES,
  ) {
    this.table = new SampleTable(input);
    this.windows = new RowWindows(this.table);
  }

  static async fromEvaluation(evaluation: Evaluation, post: (m: ToWebview) => void, opts: FromEvaluationOptions = {}, services?: ViewHostServices): Promise<PredictionViewModel> {
    return new PredictionViewModel(await viewInputFor(evaluation, opts), post, services);
  }

  /** Handle one message from the webview. Unknown or malformed messages are ignored (the webview is untrusted). */
  receive(m: unknown): void {
    if (!isFromWebview(m)) return;
    if (m.type === 'ready') {
      try {
        this.post({ type: 'init', overview: this.overview(false) });
      } catch (e) {
        this.post({ type: 'error', message: describeError(e) });
        return;
      }
      this.indexInBackground();
      return;
    }
    answer(m, this.handlers, (r) => this.post(r), describeError);
  }

  private readonly handlers: Handlers<ViewRequests> = {
    getRows: ({ query, start, count }) => ({ start, ...this.windows.window(query, start, Math.min(count, MAX_WINDOW)) }),
    getSummary: () => {
      const summary = () => {
        const { cards, confusion, lints } = this.overview();
        return { cards, confusion, lints };
      };
      // The cards read every array whole (statistics, histogram): for file-backed arrays (maybe gigabytes) in
      // slices, so other requests are answered meanwhile; in-memory ones answer at once.
      if ((this.cards && this.lints) || allInMemory(this.input.evalPred)) return summary();
      return runSliced(tensorCardsOf(this.input.evalPred)).then(async (cards) => {
        this.cards ??= cards;
        this.lints ??= await lintEvalPredictionSliced(this.lintInput());
        return summary();
      });
    },
    getDetail: ({ index }) => this.detail(index),
    copy: async ({ index, what, columns }) => {
      const text = copyText(this.table.row(this.checkedIndex(index)), what, columns, this.scoreNames());
      await this.services.writeClipboard(text);
      return { text };
    },
    exportTable: async ({ query, format, columns }) => {
      const order = this.windows.orderFor(query);
      const filtered = order.length !== this.table.n || Object.values(query.filter ?? {}).some((v) => v !== undefined && v !== '' && v !== false);
      const lines = exportLines(rowsInOrder(this.table, order), columns, format, this.scoreNames(), this.table.sequencesPerSample);
      const file = await this.services.saveExport(exportFileName(this.input.title, format, filtered), format, lines);
      return { file, rows: order.length };
    },
  };

  /** Confidence and loss when no sample has one (generated ids carry neither): the view gives their room to the text. */
  private emptyColumns(): ColumnId[] {
    const none = (a: Float64Array) => !a.some(Number.isFinite);
    return (['confidence', 'loss'] as const).filter((c) => none(this.table[c]));
  }

  private scoreNames(): string[] {
    return this.table.scores.map((s) => s.name);
  }

  private checkedIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.table.n) {
      throw new RangeError(`sample ${index} is out of range: the evaluation has ${this.table.n} samples`);
    }
    return index;
  }

  private indexing = false;

  /** The search strings, built in slices between messages once the first rows are on their way. */
  private indexInBackground(): void {
    if (this.indexing) return;
    this.indexing = true;
    const step = () => {
      if (!this.table.buildSearchIndex(20_000)) setImmediate(step).unref();
    };
    setImmediate(step).unref();
  }

  /** A new metrics result (after a rerun of compute_metrics): recorded with deltas and pushed to the view. */
  addMetrics(metrics: Record<string, unknown>): void {
    this.history.add(metrics);
    this.overviewCache = undefined;
    this.post({ type: 'metrics', history: this.history.all() });
  }

  private words(text: string): string {
    return this.input.wording ? this.input.wording(text) : text;
  }

  private notes(): string[] {
    return [...(this.input.notes ?? []), ...this.table.notes].map((n) => this.words(n));
  }

  private sequences(): { sequencesPerSample?: number } {
    const n = this.table.sequencesPerSample;
    return n > 1 ? { sequencesPerSample: n } : {};
  }

  private lintInput(): LintInput {
    return {
      evalPred: this.input.evalPred,
      numSamples: this.table.n,
      settings: this.input.settings,
      source: this.input.metricSource,
      task: this.input.loopTask ?? this.input.task,
      generation: this.input.generation,
    };
  }

  /** The whole overview; `full = false` leaves out cards, confusion matrix and lints (one pass over every array). */
  overview(full = true): Overview {
    if (!full && !this.overviewCache) {
      const ep = this.input.evalPred;
      return {
        title: this.input.title,
        task: this.input.task,
        numSamples: this.table.n,
        labels: [...this.table.labels],
        structure: (Object.keys(FIELD_NAMES) as (EvalPredictionField)[]).map((k) => `${FIELD_NAMES[k]}: ${structureOf(ep[k])}`),
        cards: [],
        metrics: this.history.all(),
        lints: [],
        notes: this.notes(),
        scoreColumns: this.scoreNames(),
        emptyColumns: this.emptyColumns(),
        ...this.sequences(),
      };
    }
    if (this.overviewCache) return { ...this.overviewCache, metrics: this.history.all() };
    const ep = this.input.evalPred;
    const lints = (this.lints ??= lintEvalPrediction(this.lintInput())).map(({ id, severity, message, fix, line }) => ({ id, severity, message: this.words(message), fix: this.words(fix), ...(line !== undefined ? { line } : {}) }));
    const structure = (Object.keys(FIELD_NAMES) as (EvalPredictionField)[]).map((k) => `${FIELD_NAMES[k]}: ${structureOf(ep[k])}`);
    this.overviewCache = {
      title: this.input.title,
      task: this.input.task,
      numSamples: this.table.n,
      labels: [...this.table.labels],
      structure,
      cards: (this.cards ??= tensorCards(ep)),
      confusion: confusionMatrix(this.table),
      metrics: this.history.all(),
      lints,
      notes: this.notes(),
      scoreColumns: this.scoreNames(),
      emptyColumns: this.emptyColumns(),
      ...this.sequences(),
    };
    return this.overviewCache;
  }

  /** One sample's row plus its raw slices of every per-sample array (ids, logits, labels; its n rows of generated ids). */
  detail(index: number): RowDetail {
    if (!Number.isInteger(index) || index < 0 || index >= this.table.n) {
      throw new RangeError(`sample ${index} is out of range: the evaluation has ${this.table.n} samples`);
    }
    const arrays: RawArray[] = [];
    const ep = this.input.evalPred;
    const per = this.table.sequencesPerSample;
    for (const key of Object.keys(FIELD_NAMES) as EvalPredictionField[]) {
      const node = ep[key];
      if (!node) continue;
      for (const [p, t] of walkTensors(node, FIELD_NAMES[key])) {
        if (t.ndim === 0) continue;
        // num_return_sequences: the sample's block of rows in predictions, as `predictions[i*n:(i+1)*n]` slices it
        const block = key === 'predictions' && per > 1 && t.shape[0] === this.table.n * per;
        if (!block && t.shape[0] !== this.table.n) continue;
        const r = block ? t.rows(index * per, (index + 1) * per) : t.row(index);
        if (r.size > 1 << 20) continue; // a row of a huge generate output is not for a detail pane
        arrays.push(rawArray(block ? `${p}[${index * per}:${(index + 1) * per}]` : `${p}[${index}]`, r));
      }
    }
    return { row: this.table.row(index), arrays };
  }
}

/** A copy of the row's bytes in a dtype the browser has a typed array for (float16 widens to float32). */
export function rawArray(p: string, t: Tensor): RawArray {
  const shape = [...t.shape];
  const copy = <T extends { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>(a: T) =>
    a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength) as ArrayBuffer;
  switch (t.dtype) {
    case 'float32':
    case 'float64':
    case 'int32':
    case 'int64':
    case 'uint8':
      return { path: p, dtype: t.dtype, shape, buffer: copy(t.data) };
    case 'bool':
      return { path: p, dtype: 'uint8', shape, buffer: copy(t.data) };
    case 'float16': {
      const out = new Float32Array(t.size);
      for (let i = 0; i < t.size; i++) out[i] = t.at(i);
      return { path: p, dtype: 'float32', shape, buffer: out.buffer };
    }
    default: {
      const out = new Int32Array(t.size);
      for (let i = 0; i < t.size; i++) out[i] = t.at(i);
      return { path: p, dtype: 'int32', shape, buffer: out.buffer };
    }
  }
}

function allInMemory(ep: EvalPredictionData): boolean {
  return (Object.keys(FIELD_NAMES) as EvalPredictionField[]).every((k) => {
    const node = ep[k];
    return !node || [...walkTensors(node, k)].every(([, t]) => t.inMemory);
  });
}
