// Tiny BERT-shaped ONNX models written from code, with the inputs and outputs real exports have
// (input_ids / attention_mask [/ token_type_ids] int64 ['batch','sequence'] -> logits ...), so the loop
// can be exercised end to end without a download. The encoder is deliberately simple:
//   emb = E[input_ids] (+ T[token_type_ids]);  ctx = attention-mask-weighted mean of emb over the sequence
//   sequence classification: logits = tanh(ctx) W + b                      [batch, numLabels]
//   token classification:    logits = tanh(emb + ctx) W + b                 [batch, sequence, numLabels]
//   question answering:      [start|end] = tanh(emb + ctx) W + b, split     [batch, sequence] each
// Padding never changes a real token's output (ctx only sees unmasked tokens), as with a real encoder.
import { GraphBuilder } from '../core/model/onnx/builder';
import { Tensor } from '../core/tensor/tensor';

export interface EncoderWeights {
  vocabSize: number;
  hidden: number;
  /** [vocabSize, hidden], row-major. */
  wordEmbeddings: Float32Array;
  /** [2, hidden] when the model takes token_type_ids, else null. */
  tokenTypeEmbeddings: Float32Array | null;
}

export interface SeqClsWeights extends EncoderWeights {
  kind: 'seq-cls';
  numLabels: number;
  /** [hidden, numLabels] */
  classifierWeight: Float32Array;
  /** [numLabels] */
  classifierBias: Float32Array;
  /** logits are cast to float16 at the end of the graph. */
  float16Logits: boolean;
  /** a second output `pooled` [batch, hidden] (tanh of the mean-pooled embeddings). */
  extraOutputs: boolean;
}

export interface TokenClsWeights extends EncoderWeights {
  kind: 'token-cls';
  numLabels: number;
  classifierWeight: Float32Array;
  classifierBias: Float32Array;
}

export interface QaWeights extends EncoderWeights {
  kind: 'qa';
  /** [hidden, 2]: column 0 start, column 1 end. */
  qaWeight: Float32Array;
  /** [2] */
  qaBias: Float32Array;
}

export type TinyModelWeights = SeqClsWeights | TokenClsWeights | QaWeights;

/** The ONNX bytes for a tiny model with these weights (opset 17). */
export function tinyModelOnnx(w: TinyModelWeights): Uint8Array {
  const g = new GraphBuilder(`tiny-${w.kind}`);
  g.input('input_ids', 'int64', ['batch', 'sequence']);
  g.input('attention_mask', 'int64', ['batch', 'sequence']);
  if (w.tokenTypeEmbeddings) g.input('token_type_ids', 'int64', ['batch', 'sequence']);
  const { emb, ctx } = encoder(g, w);
  const i64 = (values: number[]) => g.constant(Tensor.from('int64', [values.length], values), 'axes');
  if (w.kind === 'seq-cls') {
    const pooled = g.op('Tanh', [ctx], {}, w.extraOutputs ? 'pooled' : undefined);
    const logits = linear(g, pooled, w.classifierWeight, w.classifierBias, w.hidden, w.numLabels, w.float16Logits ? undefined : 'logits');
    if (w.float16Logits) g.op('Cast', [logits], { to: 10 }, 'logits');
    g.output('logits', w.float16Logits ? 'float16' : 'float32', ['batch', w.numLabels]);
    if (w.extraOutputs) g.output('pooled', 'float32', ['batch', w.hidden]);
  } else {
    // ctx [B,H] -> [B,1,H] broadcast over the sequence.
    const h = g.op('Tanh', [g.op('Add', [emb, g.op('Unsqueeze', [ctx, i64([1])])])]);
    if (w.kind === 'token-cls') {
      linear(g, h, w.classifierWeight, w.classifierBias, w.hidden, w.numLabels, 'logits');
      g.output('logits', 'float32', ['batch', 'sequence', w.numLabels]);
    } else {
      const both = linear(g, h, w.qaWeight, w.qaBias, w.hidden, 2);
      g.node('Gather', [both, g.constant(Tensor.from('int64', [], [0]), 'start')], ['start_logits'], { axis: 2 });
      g.node('Gather', [both, g.constant(Tensor.from('int64', [], [1]), 'end')], ['end_logits'], { axis: 2 });
      g.output('start_logits', 'float32', ['batch', 'sequence']);
      g.output('end_logits', 'float32', ['batch', 'sequence']);
    }
  }
  return g.toModel({ opset: 17, producerName: 'evalpred-tiny-models' });
}

function encoder(g: GraphBuilder, w: EncoderWeights): { emb: string; ctx: string } {
  g.initializer('word_embeddings', new Tensor('float32', [w.vocabSize, w.hidden], w.wordEmbeddings));
  let emb = g.op('Gather', ['word_embeddings', 'input_ids'], { axis: 0 });
  if (w.tokenTypeEmbeddings) {
    g.initializer('token_type_embeddings', new Tensor('float32', [2, w.hidden], w.tokenTypeEmbeddings));
    emb = g.op('Add', [emb, g.op('Gather', ['token_type_embeddings', 'token_type_ids'], { axis: 0 })]);
  }
  const axes = (v: number) => g.constant(Tensor.from('int64', [1], [v]), 'axes');
  const mask = g.op('Cast', ['attention_mask'], { to: 1 }); // [B,S] float
  const masked = g.op('Mul', [emb, g.op('Unsqueeze', [mask, axes(-1)])]); // [B,S,H]
  const summed = g.op('ReduceSum', [masked, axes(1)], { keepdims: 0 }); // [B,H]
  const count = g.op('ReduceSum', [mask, axes(1)], { keepdims: 1 }); // [B,1]
  // Clamp as sentence-transformers' mean pooling does, so an all-padding row gives zeros, not NaN.
  const safe = g.op('Max', [count, g.constant(Tensor.from('float32', [], [1e-9]), 'eps')]);
  return { emb, ctx: g.op('Div', [summed, safe]) };
}

function linear(g: GraphBuilder, x: string, weight: Float32Array, bias: Float32Array, inDim: number, outDim: number, outName?: string): string {
  const W = g.constant(new Tensor('float32', [inDim, outDim], weight), 'weight');
  const b = g.constant(new Tensor('float32', [outDim], bias), 'bias');
  return g.op('Add', [g.op('MatMul', [x, W]), b], {}, outName);
}

export interface BertConfigOptions {
  architecture: 'BertForSequenceClassification' | 'BertForTokenClassification' | 'BertForQuestionAnswering';
  vocabSize: number;
  hidden: number;
  /** id2label names in id order (default LABEL_0.. for `numLabels`, 2 as transformers defaults). */
  labels?: string[];
  numLabels?: number;
  problemType?: string;
  maxPositionEmbeddings?: number;
  typeVocabSize?: number;
  padTokenId?: number;
}

/** config.json as transformers' save_pretrained writes it for a BERT model (sorted keys, indent 2). */
export function bertConfigJson(o: BertConfigOptions): string {
  const labels = o.labels ?? Array.from({ length: o.numLabels ?? 2 }, (_, i) => `LABEL_${i}`);
  const cfg: Record<string, unknown> = {
    _name_or_path: 'evalpred-tiny-bert',
    architectures: [o.architecture],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: o.hidden,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    initializer_range: 0.02,
    intermediate_size: o.hidden * 4,
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    layer_norm_eps: 1e-12,
    max_position_embeddings: o.maxPositionEmbeddings ?? 512,
    model_type: 'bert',
    num_attention_heads: 1,
    num_hidden_layers: 1,
    num_labels: labels.length,
    pad_token_id: o.padTokenId ?? 0,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    transformers_version: '4.46.3',
    type_vocab_size: o.typeVocabSize ?? 2,
    use_cache: true,
    vocab_size: o.vocabSize,
  };
  if (o.problemType) cfg.problem_type = o.problemType;
  const sorted = Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, cfg[k]]));
  return JSON.stringify(sorted, null, 2) + '\n';
}
