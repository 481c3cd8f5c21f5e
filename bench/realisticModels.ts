// Full-size ONNX models for the realistic benches, written from code with seeded random weights (no download):
//   bertEncoderOnnx: BERT-base-shaped sequence classifier (post-LN encoder, 12 layers, hidden 768, 12 heads,
//     FFN 3072 with erf GELU, learned positions, pooler + classifier). Inputs input_ids, attention_mask -> logits.
//   t5Seq2SeqOnnx: T5-small-shaped encoder-decoder (6 + 6 layers, d_model 512, 8 heads, d_ff 2048, RMS norm,
//     ReLU FFN, vocab 32,128) in optimum's three-file layout with past key values named and shaped as
//     src/core/generate/seq2seqModel.ts reads them: past_key_values.L.{decoder,encoder}.{key,value} [batch, 8, len, 64].
//     T5's relative position bias is replaced by learned absolute positions: the bias is a [heads, q, k] add per
//     layer, negligible next to the matmuls, and the shapes and FLOPs per step are what the bench is about.
// Same op vocabulary as src/demo/generativeModels.ts (MatMul/Softmax attention), so no builder op is new.
import { GraphBuilder, attr } from '../src/core/model/onnx/builder';
import { Tensor } from '../src/core/tensor/tensor';
import { Rng, mulberry32 } from '../src/demo/prng';

const NEG = -1e9;

class Net {
  private readonly rng: Rng;
  constructor(readonly g: GraphBuilder, seed: number) {
    this.rng = mulberry32(seed);
  }
  op(type: string, inputs: string[], attrs: Record<string, unknown> = {}, out?: string): string {
    return this.g.op(type, inputs, attrs as never, out);
  }
  /** A random float32 initializer uniform in [-scale, scale). */
  weight(name: string, shape: number[], scale: number): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = (this.rng() * 2 - 1) * scale;
    this.g.initializer(name, new Tensor('float32', shape, d));
    return name;
  }
  fill(name: string, shape: number[], v: number): string {
    this.g.initializer(name, new Tensor('float32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v)));
    return name;
  }
  f(v: number): string {
    return this.g.constant(new Tensor('float32', [], Float32Array.of(v)));
  }
  i64(v: number[], shape = [v.length]): string {
    return this.g.constant(Tensor.from('int64', shape, v));
  }
  dim(x: string, axis: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.i64([axis], [])]);
  }
  linear(x: string, w: string, b?: string): string {
    const y = this.op('MatMul', [x, w]);
    return b ? this.op('Add', [y, b]) : y;
  }
  /** [B, T, heads*hd] -> [B, heads, T, hd] */
  split(x: string, heads: number, hd: number): string {
    return this.op('Transpose', [this.op('Reshape', [x, this.i64([0, 0, heads, hd])])], { perm: [0, 2, 1, 3] });
  }
  /** [B, heads, T, hd] -> [B, T, heads*hd] */
  merge(x: string, hidden: number): string {
    return this.op('Reshape', [this.op('Transpose', [x], { perm: [0, 2, 1, 3] }), this.i64([0, 0, hidden])]);
  }
  /** softmax(q kᵀ / sqrt(hd) + bias) v over [B, heads, *, hd] */
  attend(q: string, k: string, v: string, hd: number, biases: string[]): string {
    let s = this.op('Mul', [this.op('MatMul', [q, this.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), this.f(1 / Math.sqrt(hd))]);
    for (const b of biases) s = this.op('Add', [s, b]);
    return this.op('MatMul', [this.op('Softmax', [s], { axis: -1 }), v]);
  }
  /** An additive key mask [B, 1, 1, S] from a 0/1 int64 mask [B, S]. */
  keyMaskBias(mask: string): string {
    const m = this.op('Cast', [mask], { to: attr.int(1) });
    return this.op('Unsqueeze', [this.op('Mul', [this.op('Sub', [this.f(1), m]), this.f(NEG)]), this.i64([1, 2])]);
  }
  layerNorm(x: string, name: string, H: number): string {
    return this.op('LayerNormalization', [x, this.fill(`${name}.g`, [H], 1), this.fill(`${name}.b`, [H], 0)], { axis: -1, epsilon: attr.float(1e-12) });
  }
  rmsNorm(x: string, name: string, H: number): string {
    const ms = this.op('ReduceMean', [this.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    return this.op('Mul', [this.op('Div', [x, this.op('Sqrt', [this.op('Add', [ms, this.f(1e-6)])])]), this.fill(`${name}.g`, [H], 1)]);
  }
  gelu(x: string): string {
    const erf = this.op('Erf', [this.op('Mul', [x, this.f(Math.SQRT1_2)])]);
    return this.op('Mul', [this.op('Mul', [x, this.f(0.5)]), this.op('Add', [erf, this.f(1)])]);
  }
}

export interface BertShape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  labels: number;
}
export const BERT_BASE: BertShape = { vocabSize: 30522, hidden: 768, layers: 12, heads: 12, intermediate: 3072, maxPositions: 512, labels: 2 };

export function bertEncoderOnnx(s: BertShape, seed = 1): Uint8Array {
  const H = s.hidden, hd = H / s.heads, a = 0.02 * Math.sqrt(3); // BERT's init std 0.02 as a uniform range
  const g = new GraphBuilder('bert-base-shaped');
  g.input('input_ids', 'int64', ['batch', 'sequence']).input('attention_mask', 'int64', ['batch', 'sequence']);
  const n = new Net(g, seed);
  const pos = n.op('Range', [n.i64([0], []), n.dim('input_ids', 1), n.i64([1], [])]);
  let x = n.op('Add', [n.op('Gather', [n.weight('emb.word', [s.vocabSize, H], a), 'input_ids']), n.op('Gather', [n.weight('emb.pos', [s.maxPositions, H], a), pos])]);
  x = n.op('Add', [x, n.weight('emb.type0', [H], a)]);
  x = n.layerNorm(x, 'emb.ln', H);
  const maskBias = n.keyMaskBias('attention_mask');
  for (let l = 0; l < s.layers; l++) {
    const p = `l${l}`;
    const lin = (inp: string, name: string, i: number, o: number) => n.linear(inp, n.weight(`${p}.${name}.w`, [i, o], a), n.fill(`${p}.${name}.b`, [o], 0));
    const q = n.split(lin(x, 'q', H, H), s.heads, hd), k = n.split(lin(x, 'k', H, H), s.heads, hd), v = n.split(lin(x, 'v', H, H), s.heads, hd);
    const ctx = n.merge(n.attend(q, k, v, hd, [maskBias]), H);
    x = n.layerNorm(n.op('Add', [x, lin(ctx, 'o', H, H)]), `${p}.ln1`, H);
    const f = lin(n.gelu(lin(x, 'ffn1', H, s.intermediate)), 'ffn2', s.intermediate, H);
    x = n.layerNorm(n.op('Add', [x, f]), `${p}.ln2`, H);
  }
  const cls = n.op('Gather', [x, n.i64([0], [])], { axis: 1 });
  const pooled = n.op('Tanh', [n.linear(cls, n.weight('pool.w', [H, H], a), n.fill('pool.b', [H], 0))]);
  n.op('Add', [n.op('MatMul', [pooled, n.weight('cls.w', [H, s.labels], a)]), n.fill('cls.b', [s.labels], 0)], {}, 'logits');
  g.output('logits', 'float32', ['batch', s.labels]);
  return g.toModel();
}

export interface T5Shape {
  vocabSize: number;
  dModel: number;
  heads: number;
  dFF: number;
  encoderLayers: number;
  decoderLayers: number;
  maxPositions: number;
}
export const T5_SMALL: T5Shape = { vocabSize: 32128, dModel: 512, heads: 8, dFF: 2048, encoderLayers: 6, decoderLayers: 6, maxPositions: 512 };

function t5Attention(n: Net, p: string, s: T5Shape): { q: (h: string) => string; kv: (h: string) => [string, string]; out: (ctx: string) => string } {
  const D = s.dModel, hd = D / s.heads, a = 1 / Math.sqrt(D);
  const wq = n.weight(`${p}.q`, [D, D], a), wk = n.weight(`${p}.k`, [D, D], a), wv = n.weight(`${p}.v`, [D, D], a), wo = n.weight(`${p}.o`, [D, D], a);
  return {
    q: (h) => n.split(n.linear(h, wq), s.heads, hd),
    kv: (h) => [n.split(n.linear(h, wk), s.heads, hd), n.split(n.linear(h, wv), s.heads, hd)],
    out: (ctx) => n.linear(n.merge(ctx, D), wo),
  };
}

function t5Ffn(n: Net, p: string, x: string, s: T5Shape): string {
  const h = n.rmsNorm(x, `${p}.ln`, s.dModel);
  const y = n.linear(n.op('Relu', [n.linear(h, n.weight(`${p}.wi`, [s.dModel, s.dFF], 1 / Math.sqrt(s.dModel)))]), n.weight(`${p}.wo`, [s.dFF, s.dModel], 1 / Math.sqrt(s.dFF)));
  return n.op('Add', [x, y]);
}

/** x = E[ids] + P[pastLen + arange(t)]; returns [x, positions]. */
function t5Embed(n: Net, prefix: string, s: T5Shape, pastLen: string): [string, string] {
  const pos = n.op('Range', [pastLen, n.op('Add', [pastLen, n.dim('input_ids', 1)]), n.i64([1], [])]);
  const x = n.op('Add', [n.op('Gather', [n.weight(`${prefix}.E`, [s.vocabSize, s.dModel], 1), 'input_ids']), n.op('Gather', [n.weight(`${prefix}.P`, [s.maxPositions, s.dModel], 0.5), pos])]);
  return [x, pos];
}

export function t5EncoderOnnx(s: T5Shape, seed = 1): Uint8Array {
  const g = new GraphBuilder('t5-small-shaped-encoder');
  g.input('input_ids', 'int64', ['batch_size', 'encoder_sequence_length']).input('attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']);
  const n = new Net(g, seed);
  let [x] = t5Embed(n, 'enc', s, n.i64([0], []));
  const bias = n.keyMaskBias('attention_mask');
  const hd = s.dModel / s.heads;
  for (let l = 0; l < s.encoderLayers; l++) {
    const att = t5Attention(n, `enc${l}.sa`, s);
    const h = n.rmsNorm(x, `enc${l}.ln0`, s.dModel);
    const [k, v] = att.kv(h);
    x = n.op('Add', [x, att.out(n.attend(att.q(h), k, v, hd, [bias]))]);
    x = t5Ffn(n, `enc${l}.ff`, x, s);
  }
  n.op('Identity', [n.rmsNorm(x, 'enc.final', s.dModel)], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch_size', 'encoder_sequence_length', s.dModel]);
  return g.toModel();
}

/** decoder_model.onnx (withPast false) or decoder_with_past_model.onnx (withPast true). */
export function t5DecoderOnnx(s: T5Shape, withPast: boolean, seed = 2): Uint8Array {
  const g = new GraphBuilder(withPast ? 't5-small-shaped-decoder-with-past' : 't5-small-shaped-decoder');
  const hd = s.dModel / s.heads;
  const cache = (len: string): (string | number)[] => ['batch_size', s.heads, len, hd];
  g.input('encoder_attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']).input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  if (!withPast) g.input('encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length', s.dModel]);
  else {
    for (let l = 0; l < s.decoderLayers; l++) {
      for (const kv of ['key', 'value']) g.input(`past_key_values.${l}.decoder.${kv}`, 'float32', cache('past_decoder_sequence_length'));
      for (const kv of ['key', 'value']) g.input(`past_key_values.${l}.encoder.${kv}`, 'float32', cache('encoder_sequence_length_out'));
    }
  }
  // The same seed in both files: the two decoders share their weights, as optimum's exports do.
  const n = new Net(g, seed);
  const pastLen = withPast ? n.dim('past_key_values.0.decoder.key', 2) : n.i64([0], []);
  let [x, pos] = t5Embed(n, 'dec', s, pastLen);
  // causal: key position j is hidden from query position p when j > p
  const total = n.op('Add', [pastLen, n.dim('input_ids', 1)]);
  const later = n.op('Less', [n.op('Unsqueeze', [pos, n.i64([1])]), n.op('Range', [n.i64([0], []), total, n.i64([1], [])])]);
  const causal = n.op('Where', [later, n.f(NEG), n.f(0)]);
  const crossBias = n.keyMaskBias('encoder_attention_mask');
  for (let l = 0; l < s.decoderLayers; l++) {
    const sa = t5Attention(n, `dec${l}.sa`, s);
    const ca = t5Attention(n, `dec${l}.ca`, s);
    let h = n.rmsNorm(x, `dec${l}.ln0`, s.dModel);
    let [k, v] = sa.kv(h);
    if (withPast) {
      k = n.op('Concat', [`past_key_values.${l}.decoder.key`, k], { axis: 2 });
      v = n.op('Concat', [`past_key_values.${l}.decoder.value`, v], { axis: 2 });
    }
    n.op('Identity', [k], {}, `present.${l}.decoder.key`);
    n.op('Identity', [v], {}, `present.${l}.decoder.value`);
    x = n.op('Add', [x, sa.out(n.attend(sa.q(h), k, v, hd, [causal]))]);
    h = n.rmsNorm(x, `dec${l}.ln1`, s.dModel);
    let ek: string, ev: string;
    if (withPast) {
      ek = `past_key_values.${l}.encoder.key`;
      ev = `past_key_values.${l}.encoder.value`;
    } else {
      [ek, ev] = ca.kv('encoder_hidden_states');
      n.op('Identity', [ek], {}, `present.${l}.encoder.key`);
      n.op('Identity', [ev], {}, `present.${l}.encoder.value`);
    }
    x = n.op('Add', [x, ca.out(n.attend(ca.q(h), ek, ev, hd, [crossBias]))]);
    x = t5Ffn(n, `dec${l}.ff`, x, s);
  }
  const y = n.rmsNorm(x, 'dec.final', s.dModel);
  n.op('MatMul', [y, n.weight('lm_head', [s.dModel, s.vocabSize], 1 / Math.sqrt(s.dModel))], {}, 'logits');
  g.output('logits', 'float32', ['batch_size', 'decoder_sequence_length', s.vocabSize]);
  for (let l = 0; l < s.decoderLayers; l++) {
    for (const kv of ['key', 'value']) g.output(`present.${l}.decoder.${kv}`, 'float32', cache(withPast ? 'past_decoder_sequence_length + 1' : 'decoder_sequence_length'));
    if (!withPast) for (const kv of ['key', 'value']) g.output(`present.${l}.encoder.${kv}`, 'float32', cache('encoder_sequence_length_out'));
  }
  return g.toModel();
}
