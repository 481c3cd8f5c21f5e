// The encoder-head family (sequence / token classification, question answering): one ONNX session, a task head
// from src/core/model/heads, batches built by batches.ts. The driver (driver.ts) does the rest.
import { EvalpredError } from '../errors';
import { TaskHead, headFor } from '../model/heads';
import { checkLabelCount } from '../model/labelCount';
import { withLabelSmoothing } from '../model/labelSmoother';
import { BUILDABLE_INPUTS, ModelSession, openModel } from '../model/session';
import { Tensor, TensorNode } from '../tensor/tensor';
import { BatchContext, PreparedBatch, planColumns, prepareBatch } from './batches';
import { RunSettings } from './settings';
import { FamilyContext, FamilyForward, LoopInfo, TaskFamily } from './types';

/** Full classifier logits are small next to a language model's; warn only when they would not fit easily. */
const FULL_LOGITS_WARN_BYTES = 2 * 1024 ** 3;

type EncoderBatch = PreparedBatch & { inputIds: Tensor };

export async function openEncoderFamily(settings: RunSettings, ctx: FamilyContext): Promise<TaskFamily<EncoderBatch>> {
  const session: ModelSession = await openModel(settings.model, { device: settings.device });
  try {
    return new EncoderFamily(session, settings, ctx);
  } catch (e) {
    await session.close();
    throw e;
  }
}

class EncoderFamily implements TaskFamily<EncoderBatch> {
  readonly task: TaskHead['task'];
  readonly info: LoopInfo;
  readonly describe = '';
  readonly fullLogitsWarnBytes = FULL_LOGITS_WARN_BYTES;
  private readonly head: TaskHead;
  private readonly batchCtx: BatchContext;
  private batchesRun = 0;

  constructor(
    private readonly session: ModelSession,
    settings: RunSettings,
    ctx: FamilyContext,
  ) {
    // A generative --task was taken by families.ts; what is left names an encoder head.
    const task = settings.task === 'causal-lm' || settings.task === 'seq2seq-lm' ? undefined : settings.task;
    this.head = withLabelSmoothing(headFor(ctx.config, session.outputNames, task, session.outputs), settings.labelSmoothingFactor);
    this.task = this.head.task;
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
    this.batchCtx = { ds: ctx.ds, tok: ctx.tok, config: ctx.config, plan, inputNames: fromTokenizer, maxLength: ctx.maxLength };
    this.info = {
      id2label: ctx.config.id2label,
      columns: plan,
      maxLength: ctx.maxLength,
      modelInputs: [...session.inputNames],
      modelOutputs: [...session.outputNames],
      executionProvider: session.provider,
    };
  }

  batch(start: number, end: number): EncoderBatch {
    const b = prepareBatch(this.batchCtx, start, end);
    return { ...b, inputIds: b.feeds.input_ids };
  }

  async forward(batch: EncoderBatch, wantLoss: boolean): Promise<FamilyForward> {
    const outputs = await this.session.run(batch.feeds);
    const logits = this.head.logitsFrom(outputs, this.session.outputNames);
    // config.json's id2label / num_labels against the logits width, known for sure only now.
    if (this.batchesRun++ === 0) checkLabelCount(this.batchCtx.config, this.task, logits, this.session.modelFile);
    const loss = batch.labels && wantLoss ? this.head.batchLoss(logits, batch.labels) : null;
    if (batch.labels && wantLoss && loss === null) {
      // Trainer would fail in the model's loss here (torch rejects these labels): no eval_loss, no metrics.
      // Say so, rather than report metrics with fewer keys.
      const { ds, plan, config } = this.batchCtx;
      throw new EvalpredError(
        `${ds.source}, label column "${plan.label}": the ${this.task} head cannot compute the model's loss on the labels of batch ${this.batchesRun} ` +
          `(${describeLabels(batch.labels)}${config.problem_type ? `, problem_type ${config.problem_type}` : ''}); ` +
          `transformers would fail here. Fix the label column, or config.json's problem_type / num_labels.`,
        { file: ds.source, column: plan.label },
      );
    }
    return { logits, labels: batch.labels, loss, lossCopies: batch.size };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

function describeLabels(labels: TensorNode): string {
  if (labels instanceof Tensor) return `${labels.dtype}[${labels.shape.join(', ')}]`;
  return 'tuple' in labels ? `a tuple of ${labels.tuple.length}` : `a list of ${labels.list.length}`;
}
