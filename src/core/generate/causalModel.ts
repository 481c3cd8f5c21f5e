// A decoder-only ONNX export (model.onnx, with or without past key values, as optimum writes them). For
// evaluation every batch is one forward pass; an export with past inputs gets empty [n, heads, 0, head_dim]
// past tensors (and its attention_mask then covers only the current tokens, as it should).
import { EvalpredError } from '../errors';
import { ModelSession, OpenModelOptions, openModel } from '../model/session';
import { Tensor } from '../tensor/tensor';
import { Stepper, gatherRows, lastColumn, lastPositionLogits } from './stepper';

const PAST = /^past_key_values\.\d+\.(key|value)$/;

export class CausalLmModel {
  private constructor(
    readonly session: ModelSession,
    private readonly past: { name: string; heads: number; headDim: number }[],
  ) {}

  static async open(modelDirOrFile: string, opts: OpenModelOptions = {}): Promise<CausalLmModel> {
    const session = await openModel(modelDirOrFile, opts);
    const past = session.inputs
      .filter((i) => PAST.test(i.name))
      .map((i) => ({ name: i.name, heads: Number(i.dims?.[1]), headDim: Number(i.dims?.[3]) }));
    for (const p of past) {
      if (!Number.isInteger(p.heads) || !Number.isInteger(p.headDim)) {
        throw new EvalpredError(`${session.modelFile}: input "${p.name}" has no fixed [heads, head_dim] dims, so an empty cache cannot be fed.`, {
          file: session.modelFile,
          tensor: p.name,
        });
      }
    }
    if (!session.outputNames.includes('logits')) {
      throw new EvalpredError(`${session.modelFile}: a causal LM must output "logits"; this model outputs ${session.outputNames.join(', ')}.`, { file: session.modelFile });
    }
    return new CausalLmModel(session, past);
  }

  get hasPastInputs(): boolean {
    return this.past.length > 0;
  }

  /** One forward pass over whole sequences; returns every output (logits [n, L, V], present.* ...). */
  async forward(inputIds: Tensor, attentionMask: Tensor): Promise<Record<string, Tensor>> {
    const feeds: Record<string, Tensor> = { input_ids: inputIds, attention_mask: attentionMask };
    if (this.session.inputNames.includes('position_ids')) feeds.position_ids = positionIds(attentionMask, 0);
    for (const p of this.past) feeds[p.name] = Tensor.full('float32', [inputIds.shape[0], p.heads, 0, p.headDim]);
    return this.session.run(feeds);
  }

  /**
   * A generation stepper from prompts `promptMask` [rows, P] (left or right padded; rows already expanded for
   * beams). The attention mask grows by a column of ones per new token; position_ids, when the model takes
   * them, are attention_mask.cumsum(-1) - 1 (1 where masked), as prepare_inputs_for_generation builds them.
   */
  stepper(promptMask: Tensor, useCacheFlag = true): Stepper {
    const model = this;
    const stats = { runs: 0, cachedRuns: 0 };
    const cached = useCacheFlag && this.past.length > 0;
    const wantsPositions = this.session.inputNames.includes('position_ids');
    let past: Record<string, Tensor> | null = null;
    const V = this.session.outputs.find((o) => o.name === 'logits')?.dims?.[2];
    return {
      vocabSize: typeof V === 'number' ? V : NaN,
      stats,
      async next(seqs: Tensor, beamIdx: Int32Array | null): Promise<Float32Array> {
        stats.runs++;
        const mask = extendMask(promptMask, seqs.shape[1]);
        if (!cached || !past) {
          const out = await model.forward(seqs, mask);
          if (cached) past = model.presentOf(out);
          return lastPositionLogits(out.logits);
        }
        stats.cachedRuns++;
        let p = past;
        if (beamIdx) p = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, gatherRows(t, beamIdx)]));
        const feeds: Record<string, Tensor> = { input_ids: lastColumn(seqs), attention_mask: mask, ...p };
        if (wantsPositions) feeds.position_ids = positionIds(mask, seqs.shape[1] - 1);
        const out = await model.session.run(feeds);
        past = model.presentOf(out);
        return lastPositionLogits(out.logits);
      },
    };
  }

  private presentOf(out: Record<string, Tensor>): Record<string, Tensor> {
    const next: Record<string, Tensor> = {};
    for (const p of this.past) {
      const present = p.name.replace('past_key_values', 'present');
      if (!out[present]) {
        throw new EvalpredError(`${this.session.modelFile}: the model returned no "${present}", so its past key values cannot be reused.`, { file: this.session.modelFile, tensor: present });
      }
      next[p.name] = out[present];
    }
    return next;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/** [rows, P] prompt mask followed by ones up to `width` columns. */
function extendMask(prompt: Tensor, width: number): Tensor {
  const [rows, P] = prompt.shape;
  if (width === P) return prompt;
  const out = Tensor.full('int64', [rows, width], 1);
  const s = prompt.data as BigInt64Array, d = out.data as BigInt64Array;
  for (let r = 0; r < rows; r++) d.set(s.subarray(r * P, (r + 1) * P), r * width);
  return out;
}

/** attention_mask.cumsum(-1) - 1, masked_fill(mask == 0, 1), for columns [from, width). */
export function positionIds(mask: Tensor, from: number): Tensor {
  const [rows, width] = mask.shape;
  const out = Tensor.full('int64', [rows, width - from]);
  const m = mask.data as BigInt64Array, d = out.data as BigInt64Array;
  for (let r = 0; r < rows; r++) {
    let c = -1n;
    for (let j = 0; j < width; j++) {
      c += m[r * width + j];
      if (j >= from) d[r * (width - from) + j - from] = m[r * width + j] === 0n ? 1n : c;
    }
  }
  return out;
}
