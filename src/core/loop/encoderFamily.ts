// The encoder-head family (sequence / token classification, question answering): one ONNX session, a task head
// from src/core/model/heads, batches built by batches.ts. The driver (driver.ts) does the rest.
import { EvalpredError } from '../errors';
import { TaskHead, headFor } from '../model/heads';
import { checkLabelCount } from '../model/labelCount';
import { withLabelSmoothing } from '../model/labelSmoother';
import { LANES_MIN_ROWS } from '../model/lanes/pool';
import { BUILDABLE_INPUTS, ModelSession, openModel } from '../model/session';
import { Tensor, TensorNode } from '../tensor/tensor';
import { tokenizerBatch } from '../text';
import { FEEDER_THREAD_MIN_ROWS, FeederThread } from '../textFeatures/feeder';
import { RowFeatures } from '../textFeatures/rowFeatures';
import { chunkRows, collateChunk } from '../textFeatures/tokenFeatures';
import { BatchContext, PreparedBatch, encoderTextSettings, planColumns, prepareBatch } from './batches';
import { QA_POSTPROCESS_DEFAULTS, QaRecord, QaValidationFeatures, prepareValidationFeatures } from './qaFeatures';
import { RunSettings } from './settings';
import { SequenceFeed, featuresOnDisk, sequenceTextSettings } from './sequenceFeed';
import { FamilyContext, FamilyForward, LoopInfo, TaskFamily } from './types';

/** Full classifier logits are small next to a language model's; warn only when they would not fit easily. */
const FULL_LOGITS_WARN_BYTES = 2 * 1024 ** 3;

type EncoderBatch = PreparedBatch & { inputIds: Tensor };

export async function openEncoderFamily(settings: RunSettings, ctx: FamilyContext): Promise<TaskFamily<EncoderBatch>> {
  // One turn of the event loop first: the host's go, with the features cache, may be waiting (it is sent once the
  // host has hashed the inputs, usually before this point).
  await new Promise((r) => setImmediate(r));
  const thread = startsFeederEarly(settings, ctx) ? new FeederThread(ctx.tok.dir) : undefined;
  let session: ModelSession | undefined;
  try {
    // Lanes for a run long enough to pay for their start (threads.ts decides whether the machine has room).
    session = await openModel(settings.model, { device: settings.device, lanes: ctx.numRows >= LANES_MIN_ROWS });
    // Again: the go may have come while the model loaded, and a run that finds its features cached then
    // tokenizes nothing ahead (sequenceFeed.ts).
    await new Promise((r) => setImmediate(r));
    const family = new EncoderFamily(session, settings, ctx, thread);
    if (!family.takesThread) await thread?.close();
    return family;
  } catch (e) {
    await thread?.close();
    await session?.close();
    throw e;
  }
}

/**
 * A long run's tokenization thread starts before the model opens, so that its own start overlaps the model's load
 * (sequenceFeed.ts takes it; docs/architecture.md#tokenization-ahead); only sequence classification tokenizes in a
 * thread. Not when its tokenized features are already known to be cached: the thread's start would only compete
 * with the first batches for the cores.
 */
function startsFeederEarly(settings: RunSettings, ctx: FamilyContext): boolean {
  if (ctx.numRows < FEEDER_THREAD_MIN_ROWS || settings.task === 'token-classification' || settings.task === 'question-answering') return false;
  try {
    // The columns as a sequence-classification head would plan them (the head itself is known once the model is open).
    return !featuresOnDisk(ctx.featuresCache?.(), sequenceTextSettings(planColumns(ctx.ds, 'sequence-classification', settings), ctx.maxLength));
  } catch {
    return false; // no text column a sequence-classification head would read: another task, or an error the family reports
  }
}

class EncoderFamily implements TaskFamily<EncoderBatch> {
  readonly task: TaskHead['task'];
  readonly info: LoopInfo;
  readonly describe = '';
  readonly fullLogitsWarnBytes = FULL_LOGITS_WARN_BYTES;
  private readonly head: TaskHead;
  private readonly batchCtx: BatchContext;
  private labelCountChecked = false;
  /** Sequence classification: token features from the cache or tokenized ahead (sequenceFeed.ts). */
  private readonly seqFeed?: SequenceFeed;
  /** The feeder thread started with the model went to the sequence feed. */
  get takesThread(): boolean {
    return this.seqFeed !== undefined;
  }
  /** Token classification and QA without a doc stride: the rows' encodings, cached between runs (rowFeatures.ts). */
  private readonly rowFeatures?: RowFeatures;
  /** run_qa's validation features when --doc-stride is given: the loop runs over them instead of the rows. Made
   *  when the driver first asks (numItems), once the run goes ahead: only then is the features cache known. */
  private readonly prepareQa?: () => QaValidationFeatures & { padTo?: number };
  private preparedQa?: QaValidationFeatures & { padTo?: number };
  readonly labelKeys: readonly string[];

  constructor(
    private readonly session: ModelSession,
    settings: RunSettings,
    ctx: FamilyContext,
    thread?: FeederThread,
  ) {
    // A generative --task was taken by families.ts; what is left names an encoder head.
    const task = settings.task === 'causal-lm' || settings.task === 'seq2seq-lm' ? undefined : settings.task;
    this.head = withLabelSmoothing(headFor(ctx.config, session.outputNames, task, session.outputs), settings.labelSmoothingFactor);
    this.task = this.head.task;
    this.labelKeys = this.head.labelNames;
    ctx.notes.push(...session.notes, ...this.head.notes);
    if (!ctx.config.configFile) {
      ctx.notes.push(
        `${settings.model} has no config.json: the task (${this.head.task}) was taken from the model's outputs, predicted classes are shown as ` +
          `ids without names, and the problem type follows the labels as transformers infers it.`,
      );
    }
    const plan = planColumns(ctx.ds, this.head.task, settings);
    ctx.notes.push(...plan.notes);
    // The tokenizer gives input_ids/attention_mask/token_type_ids; the session fills position_ids and
    // refuses (naming it) any other input.
    const fromTokenizer = session.inputNames.filter((n) => n === 'input_ids' || n === 'attention_mask' || n === 'token_type_ids');
    if (!session.inputNames.includes('input_ids')) {
      throw new EvalpredError(
        `${session.modelFile}: the model has no input_ids input (inputs: ${session.inputNames.join(', ')}); evalpred feeds ` +
          `text models and builds ${[...BUILDABLE_INPUTS].join(', ')}.`,
        { file: session.modelFile },
      );
    }
    let maxLength = ctx.maxLength;
    if (settings.docStride !== undefined) {
      if (this.head.task !== 'question-answering') {
        throw new EvalpredError(`docStride (--doc-stride) is run_qa.py's windowing of long contexts for extractive QA, but ${settings.model} is a ${this.head.task} model.`, {
          column: 'docStride',
        });
      }
      if (!settings.evalDoConcatBatches) {
        throw new EvalpredError('docStride (--doc-stride) needs concatenated predictions: run_qa\'s post-processing indexes the start/end logits by feature, and with eval_do_concat_batches=False (--no-concat) it fails. Drop one of the two.', {
          column: 'docStride',
        });
      }
      // run_qa: max_seq_length = min(384, tokenizer.model_max_length) unless given
      if (settings.maxLength === undefined && maxLength > 384) {
        maxLength = 384;
        ctx.notes.push('max length 384 (run_qa.py\'s max_seq_length default; set maxLength / --max-length to change it)');
      }
      const { docStride, maxAnswerLength, nBestSize, version2WithNegative, nullScoreDiffThreshold } = settings;
      const options = { ...QA_POSTPROCESS_DEFAULTS };
      if (maxAnswerLength !== undefined) options.maxAnswerLength = maxAnswerLength;
      if (nBestSize !== undefined) options.nBestSize = nBestSize;
      if (version2WithNegative !== undefined) options.version2WithNegative = version2WithNegative;
      if (nullScoreDiffThreshold !== undefined) options.nullScoreDiffThreshold = nullScoreDiffThreshold;
      const padTo = settings.padToMaxLength === false ? undefined : maxLength;
      // label_names asked for: the features get prepare_train_features' start/end positions, so the loop has labels
      // (label_ids, eval_loss) while compute_metrics still scores the post-processed answers.
      const labels = settings.labelNames ? { padTo } : undefined;
      this.prepareQa = () => {
        const f = prepareValidationFeatures(ctx.ds, ctx.tok, plan, ctx.numRows, maxLength, docStride, options, ctx.notes, labels, { cache: ctx.featuresCache, log: ctx.log });
        ctx.notes.push(
          `run_qa.py's evaluation: ${ctx.numRows} examples cut into ${chunkRows(f.windows)} features (max length ${maxLength}, doc stride ${docStride}); ` +
            `compute_metrics gets the post-processed answers, as QuestionAnsweringTrainer passes them (docs/trainer-semantics.md#question-answering-with-doc-stride)`,
        );
        return { ...f, padTo };
      };
    }
    this.batchCtx = { ds: ctx.ds, tok: ctx.tok, config: ctx.config, plan, inputNames: fromTokenizer, maxLength };
    if (this.head.task !== 'sequence-classification' && !this.prepareQa) {
      this.rowFeatures = new RowFeatures({ cache: ctx.featuresCache, text: encoderTextSettings(this.batchCtx), numRows: ctx.numRows, tables: ['inputs'], aligned: true, log: ctx.log });
      this.batchCtx.features = this.rowFeatures;
    }
    if (this.head.task === 'sequence-classification') {
      this.seqFeed = new SequenceFeed({
        ctx: this.batchCtx,
        numRows: ctx.numRows,
        batchSize: settings.batchSize,
        cache: ctx.featuresCache,
        log: ctx.log,
        thread,
      });
    }
    this.info = {
      id2label: ctx.config.id2label,
      columns: plan,
      maxLength,
      modelInputs: [...session.inputNames],
      modelOutputs: [...session.outputNames],
      executionProvider: session.provider,
    };
  }

  private get qaFeatures(): (QaValidationFeatures & { padTo?: number }) | undefined {
    return this.prepareQa ? (this.preparedQa ??= this.prepareQa()) : undefined;
  }

  get numItems(): number | undefined {
    const qa = this.qaFeatures;
    return qa && chunkRows(qa.windows);
  }

  get qa(): QaRecord | undefined {
    const f = this.qaFeatures;
    return f && { examples: f.examples, features: f.features, options: f.options };
  }

  batch(start: number, end: number): EncoderBatch | Promise<EncoderBatch> {
    if (this.seqFeed) return this.seqFeed.batch(start, end);
    const qa = this.qaFeatures;
    if (qa) {
      // run_qa's evaluation features carry no labels (no label_ids, no eval_loss) unless label_names asked for them
      const { tok, inputNames } = this.batchCtx;
      // typeIds: a tokenizer that returns no token_type_ids leaves the model zeros (docs/trainer-semantics.md#losses-we-compute)
      const feeds = collateChunk(qa.windows, start, end, { padTokenId: tok.padTokenId, padSide: tok.padSide, names: inputNames, padTo: qa.padTo, typeIds: tok.returnsTokenTypeIds });
      const pos = qa.positions?.slice(start, end);
      const labels = pos
        ? { tuple: [Tensor.from('int64', [pos.length], pos.map((p) => p[0])), Tensor.from('int64', [pos.length], pos.map((p) => p[1]))] }
        : null;
      return { feeds, labels, size: end - start, inputIds: feeds.input_ids };
    }
    const b = prepareBatch(this.batchCtx, start, end);
    return { ...b, inputIds: b.feeds.input_ids };
  }

  /** With inference lanes, one batch more than lanes: a lane that finishes finds the next batch already queued. */
  get concurrency(): number {
    const lanes = this.session.lanes ?? 1;
    return lanes > 1 ? lanes + 1 : 1;
  }

  async forward(batch: EncoderBatch, wantLoss: boolean, index: number): Promise<FamilyForward> {
    const outputs = await this.session.run(batch.feeds);
    const logits = this.head.logitsFrom(outputs, this.session.outputNames);
    // config.json's id2label / num_labels against the logits width, known for sure only now (any batch tells).
    if (!this.labelCountChecked) {
      this.labelCountChecked = true;
      checkLabelCount(this.batchCtx.config, this.task, logits, this.session.modelFile);
    }
    const loss = batch.labels && wantLoss ? this.head.batchLoss(logits, batch.labels) : null;
    if (batch.labels && wantLoss && loss === null) {
      // Trainer would fail in the model's loss here (torch rejects these labels): no eval_loss, no metrics.
      // Say so, rather than report metrics with fewer keys.
      const { ds, plan, config } = this.batchCtx;
      throw new EvalpredError(
        `${ds.source}, label column "${plan.label}": the ${this.task} head cannot compute the model's loss on the labels of batch ${index + 1} ` +
          `(${describeLabels(batch.labels)}${config.problem_type ? `, problem_type ${config.problem_type}` : ''}); ` +
          `transformers would fail here. Fix the label column, or config.json's problem_type / num_labels.`,
        { file: ds.source, column: plan.label },
      );
    }
    return { logits, labels: batch.labels, loss, lossCopies: batch.size, batchMapping: this.batchMapping(batch) };
  }

  /** DataCollatorWithPadding / ForTokenClassification / run_qa's batch: the tokenizer's keys, then the label keys. */
  private batchMapping(batch: EncoderBatch): Record<string, Tensor> {
    const m = tokenizerBatch(batch.feeds, this.batchCtx.tok.returnsTokenTypeIds);
    const labels = batch.labels;
    if (labels instanceof Tensor) m[this.labelKeys[0]] = labels;
    else if (labels && 'tuple' in labels) labels.tuple.forEach((t, i) => t instanceof Tensor && this.labelKeys[i] && (m[this.labelKeys[i]] = t));
    return m;
  }

  async close(): Promise<void> {
    try {
      this.rowFeatures?.close();
      await this.seqFeed?.close();
    } finally {
      await this.session.close();
    }
  }
}

function describeLabels(labels: TensorNode): string {
  if (labels instanceof Tensor) return `${labels.dtype}[${labels.shape.join(', ')}]`;
  return 'tuple' in labels ? `a tuple of ${labels.tuple.length}` : `a list of ${labels.list.length}`;
}
