// An encoder-decoder ONNX model in the layouts optimum exports:
//   three-file: encoder_model.onnx + decoder_model.onnx (+ decoder_with_past_model.onnx for the KV cache)
//   merged:     encoder_model.onnx + decoder_model_merged.onnx (an If on `use_cache_branch`; at the first step
//               the past inputs are fed as empty [rows, heads, 0, head_dim] tensors and the branch is false)
// Files may sit in the folder or in its onnx/ subfolder (transformers.js layout).
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../errors';
import { ModelSession, OpenModelOptions, openModel } from '../model/session';
import { Tensor } from '../tensor/tensor';
import { Stepper, gatherRows, lastColumn, lastPositionLogits } from './stepper';

export type Seq2SeqLayout = 'three-file' | 'merged';

export interface Seq2SeqFiles {
  layout: Seq2SeqLayout;
  encoder: string;
  decoder: string;
  decoderWithPast: string | null;
}

const PAST = /^past_key_values\.(\d+)\.(decoder|encoder)\.(key|value)$/;

/** The seq2seq files in a folder, or null when it holds no encoder_model.onnx (not a seq2seq export). */
export function findSeq2SeqFiles(dir: string): Seq2SeqFiles | null {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return null;
  for (const base of [dir, path.join(dir, 'onnx')]) {
    const f = (n: string) => (fs.existsSync(path.join(base, n)) ? path.join(base, n) : null);
    const encoder = f('encoder_model.onnx');
    if (!encoder) continue;
    const merged = f('decoder_model_merged.onnx');
    const decoder = f('decoder_model.onnx');
    if (decoder) return { layout: 'three-file', encoder, decoder, decoderWithPast: f('decoder_with_past_model.onnx') };
    if (merged) return { layout: 'merged', encoder, decoder: merged, decoderWithPast: null };
    throw new EvalpredError(
      `${base} has encoder_model.onnx but no decoder: a seq2seq export needs decoder_model.onnx (+ decoder_with_past_model.onnx) ` +
        `or decoder_model_merged.onnx beside it (optimum-cli export onnx --task text2text-generation-with-past writes them).`,
      { file: base },
    );
  }
  return null;
}

export interface EncoderState {
  /** encoder last_hidden_state [rows, S, H] */
  hidden: Tensor;
  /** encoder attention mask [rows, S] int64 */
  mask: Tensor;
}

interface PastSpec {
  name: string;
  present: string;
  part: 'decoder' | 'encoder';
  /** [heads, headDim] for the empty first-step tensors of the merged decoder. */
  heads: number;
  headDim: number;
}

export class Seq2SeqModel {
  private constructor(
    readonly files: Seq2SeqFiles,
    readonly encoder: ModelSession,
    readonly decoder: ModelSession,
    readonly decoderWithPast: ModelSession | null,
    private readonly past: PastSpec[],
    readonly vocabSize: number,
  ) {}

  static async open(dir: string, opts: OpenModelOptions = {}): Promise<Seq2SeqModel> {
    const files = findSeq2SeqFiles(dir);
    if (!files) throw new EvalpredError(`${dir} holds no encoder_model.onnx, so it is not a seq2seq (encoder-decoder) export.`, { file: dir });
    const encoder = await openModel(files.encoder, opts);
    const decoder = await openModel(files.decoder, opts);
    const withPast = files.decoderWithPast ? await openModel(files.decoderWithPast, opts) : null;
    const pastSource = files.layout === 'merged' ? decoder : withPast;
    const past: PastSpec[] = [];
    for (const info of pastSource?.inputs ?? []) {
      const m = PAST.exec(info.name);
      if (!m) continue;
      const dims = info.dims ?? [];
      const heads = typeof dims[1] === 'number' ? dims[1] : NaN;
      const headDim = typeof dims[3] === 'number' ? dims[3] : NaN;
      past.push({ name: info.name, present: info.name.replace('past_key_values', 'present'), part: m[2] as 'decoder' | 'encoder', heads, headDim });
    }
    for (const need of ['input_ids', 'encoder_hidden_states', 'encoder_attention_mask']) {
      if (!decoder.inputNames.includes(need)) {
        throw new EvalpredError(`${files.decoder}: a seq2seq decoder needs an input "${need}"; its inputs are ${decoder.inputNames.join(', ')}.`, { file: files.decoder });
      }
    }
    if (!decoder.outputNames.includes('logits')) {
      throw new EvalpredError(`${files.decoder}: the decoder has no "logits" output (outputs: ${decoder.outputNames.join(', ')}).`, { file: files.decoder });
    }
    if (!encoder.outputNames.includes('last_hidden_state')) {
      throw new EvalpredError(`${files.encoder}: the encoder has no "last_hidden_state" output (outputs: ${encoder.outputNames.join(', ')}).`, { file: files.encoder });
    }
    const V = decoder.outputs.find((o) => o.name === 'logits')?.dims?.[2];
    return new Seq2SeqModel(files, encoder, decoder, withPast, past, typeof V === 'number' ? V : NaN);
  }

  /** True when decoding can reuse past key values (a with-past decoder or a merged one). */
  get hasCache(): boolean {
    return this.past.length > 0;
  }

  async encode(inputIds: Tensor, attentionMask: Tensor): Promise<EncoderState> {
    const out = await this.encoder.run({ input_ids: inputIds, attention_mask: attentionMask });
    return { hidden: out.last_hidden_state, mask: attentionMask };
  }

  /** The decoder over whole sequences (teacher forcing, or one uncached generation step): logits [rows, t, V]. */
  async forward(decoderInputIds: Tensor, enc: EncoderState): Promise<Tensor> {
    const feeds: Record<string, Tensor> = {
      input_ids: decoderInputIds,
      encoder_hidden_states: enc.hidden,
      encoder_attention_mask: enc.mask,
    };
    if (this.files.layout === 'merged') Object.assign(feeds, this.emptyPast(decoderInputIds.shape[0]), { use_cache_branch: useCache(false) });
    return (await this.decoder.run(feeds)).logits;
  }

  /** A stepper over `enc` (rows already expanded for beams). `useCache` false re-runs the whole prefix each step. */
  stepper(enc: EncoderState, useCacheFlag = true): Stepper {
    const model = this;
    const stats = { runs: 0, cachedRuns: 0 };
    let past: Record<string, Tensor> | null = null;
    const cached = useCacheFlag && this.hasCache;
    return {
      vocabSize: this.vocabSize,
      stats,
      async next(seqs: Tensor, beamIdx: Int32Array | null): Promise<Float32Array> {
        stats.runs++;
        if (!cached || !past) {
          const feeds: Record<string, Tensor> = { input_ids: seqs, encoder_hidden_states: enc.hidden, encoder_attention_mask: enc.mask };
          const merged = model.files.layout === 'merged';
          if (merged) Object.assign(feeds, model.emptyPast(seqs.shape[0]), { use_cache_branch: useCache(false) });
          const out = await model.decoder.run(feeds);
          if (cached) past = model.collectPresent(out, null);
          return lastPositionLogits(out.logits);
        }
        stats.cachedRuns++;
        let p: Record<string, Tensor> = past;
        if (beamIdx) p = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, gatherRows(t, beamIdx)]));
        const feeds: Record<string, Tensor> = { input_ids: lastColumn(seqs), encoder_attention_mask: enc.mask, ...p };
        let out: Record<string, Tensor>;
        if (model.files.layout === 'merged') {
          out = await model.decoder.run({ ...feeds, encoder_hidden_states: enc.hidden, use_cache_branch: useCache(true) });
        } else {
          out = await model.decoderWithPast!.run(feeds);
        }
        past = model.collectPresent(out, p);
        return lastPositionLogits(out.logits);
      },
    };
  }

  /** Next step's past from this step's present.* (the with-past decoder returns no encoder part: keep the old one). */
  private collectPresent(out: Record<string, Tensor>, prev: Record<string, Tensor> | null): Record<string, Tensor> {
    const next: Record<string, Tensor> = {};
    for (const s of this.past) {
      const t = out[s.present] ?? (s.part === 'encoder' ? prev?.[s.name] : undefined);
      if (!t) {
        throw new EvalpredError(`${this.files.decoder}: the decoder returned no "${s.present}", so its past key values cannot be reused.`, { file: this.files.decoder, tensor: s.present });
      }
      next[s.name] = t;
    }
    return next;
  }

  private emptyPast(rows: number): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const s of this.past) {
      if (!Number.isInteger(s.heads) || !Number.isInteger(s.headDim)) {
        throw new EvalpredError(`${this.files.decoder}: input "${s.name}" has no fixed [heads, head_dim] dims, so the empty first-step cache cannot be built.`, {
          file: this.files.decoder,
          tensor: s.name,
        });
      }
      feeds[s.name] = Tensor.full('float32', [rows, s.heads, 0, s.headDim]);
    }
    return feeds;
  }

  async close(): Promise<void> {
    await this.encoder.close();
    await this.decoder.close();
    await this.decoderWithPast?.close();
  }
}

function useCache(v: boolean): Tensor {
  return Tensor.from('bool', [1], [v ? 1 : 0]);
}

/**
 * transformers' shift_tokens_right: decoder_input_ids = [start, labels[:-1]] with -100 replaced by pad
 * (what the model does internally when given labels, for the teacher-forced loss).
 */
export function shiftTokensRight(labels: Tensor, padTokenId: number, decoderStartTokenId: number): Tensor {
  const [n, T] = labels.shape;
  const out = new BigInt64Array(n * T);
  for (let r = 0; r < n; r++) {
    out[r * T] = BigInt(decoderStartTokenId);
    for (let j = 1; j < T; j++) {
      const v = labels.at(r * T + j - 1);
      out[r * T + j] = BigInt(v === -100 ? padTokenId : v);
    }
  }
  return new Tensor('int64', [n, T], out);
}
