// Tiny generative ONNX models written from code, in the layouts Hugging Face optimum exports, so generation
// (greedy, beam search, KV cache) can be tested and benchmarked without a download. One layer, one head,
// attention written with MatMul/Softmax:
//
// seq2seq (T5/BART-shaped):
//   encoder_model.onnx    input_ids, attention_mask -> last_hidden_state = tanh((Ee[ids] + Pe[pos]) We)
//   decoder_model.onnx    input_ids, encoder_attention_mask, encoder_hidden_states -> logits, present.0.{decoder,encoder}.{key,value}
//   decoder_with_past_model.onnx  input_ids, encoder_attention_mask, past_key_values.0.* -> logits, present.0.decoder.*
//   decoder_model_merged.onnx     all of the above + use_cache_branch (an If: then = with past, else = without)
//   decoder: x = Ed[ids] + Pd[pos] (pos = past_len + arange(t));  x += SelfAttn(x | past, causal) Wo;
//            x += CrossAttn(x, enc, encoder_attention_mask) Co;  logits = x Wout + PosBias[pos]
// causal LM (GPT-2-shaped): model.onnx  input_ids, attention_mask [, past_key_values.0.key/value] -> logits [, present.0.*]
//            x = E[ids] + P[pos];  x += SelfAttn(x | past, causal + key padding mask) Wo;  logits = x Wout + PosBias[pos]
// Caches are [batch, 1 head, length, hidden]. PosBias lets a test make eos likelier with position, so rows stop
// at different steps. The same weights drive the NumPy reference in the tests.
import { GraphBuilder, attr } from '../core/model/onnx/builder';
import { ProtoWriter } from '../core/model/onnx/protobuf';
import { Tensor } from '../core/tensor/tensor';
import { Rng, mulberry32, uniformFloat32 } from './prng';

export interface Seq2SeqWeights {
  vocabSize: number;
  hidden: number;
  maxPositions: number;
  encEmbed: Float32Array; // [V, H]
  encPos: Float32Array; // [P, H]
  encW: Float32Array; // [H, H]
  decEmbed: Float32Array; // [V, H]
  decPos: Float32Array; // [P, H]
  wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array; // [H, H]
  cq: Float32Array; ck: Float32Array; cv: Float32Array; co: Float32Array; // [H, H]
  wout: Float32Array; // [H, V]
  posBias: Float32Array; // [P, V]
}

export interface CausalLmWeights {
  vocabSize: number;
  hidden: number;
  maxPositions: number;
  embed: Float32Array;
  pos: Float32Array;
  wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array;
  wout: Float32Array;
  posBias: Float32Array;
}

export interface TinyGenOptions {
  vocabSize: number;
  hidden: number;
  maxPositions?: number;
  seed?: number;
  /** eos id whose logit grows by `eosSlope` per position (PosBias[p, eos] = eosSlope * (p - eosFrom)). */
  eosTokenId?: number;
  eosSlope?: number;
  eosFrom?: number;
  /** scale of the output projection (larger = peakier distributions). */
  outScale?: number;
}

function posBias(o: TinyGenOptions, P: number): Float32Array {
  const b = new Float32Array(P * o.vocabSize);
  if (o.eosTokenId !== undefined && o.eosSlope) for (let p = 0; p < P; p++) b[p * o.vocabSize + o.eosTokenId] = o.eosSlope * (p - (o.eosFrom ?? 4));
  return b;
}

export function seq2seqWeights(o: TinyGenOptions): Seq2SeqWeights {
  const rng: Rng = mulberry32(o.seed ?? 1);
  const V = o.vocabSize, H = o.hidden, P = o.maxPositions ?? 128;
  const m = (n: number, s: number) => uniformFloat32(rng, n, s);
  const a = 1 / Math.sqrt(H);
  return {
    vocabSize: V, hidden: H, maxPositions: P,
    encEmbed: m(V * H, 1.5), encPos: m(P * H, 0.3), encW: m(H * H, a * 2),
    decEmbed: m(V * H, 1), decPos: m(P * H, 0.5),
    wq: m(H * H, a * 2), wk: m(H * H, a * 2), wv: m(H * H, a), wo: m(H * H, a),
    cq: m(H * H, a * 2), ck: m(H * H, a * 2), cv: m(H * H, a * 3), co: m(H * H, a * 3),
    wout: m(H * V, (o.outScale ?? 2) * a), posBias: posBias(o, P),
  };
}

export function causalLmWeights(o: TinyGenOptions): CausalLmWeights {
  const rng: Rng = mulberry32(o.seed ?? 1);
  const V = o.vocabSize, H = o.hidden, P = o.maxPositions ?? 128;
  const m = (n: number, s: number) => uniformFloat32(rng, n, s);
  const a = 1 / Math.sqrt(H);
  return {
    vocabSize: V, hidden: H, maxPositions: P,
    embed: m(V * H, 1), pos: m(P * H, 0.5),
    wq: m(H * H, a * 2), wk: m(H * H, a * 2), wv: m(H * H, a), wo: m(H * H, a),
    wout: m(H * V, (o.outScale ?? 2) * a), posBias: posBias(o, P),
  };
}

const F32 = (shape: number[], d: Float32Array) => new Tensor('float32', shape, d);
const I64 = (shape: number[], v: number[]) => Tensor.from('int64', shape, v);
const NEG = -1e9;

/** Op emitter with unique value names (sibling If branches must not reuse names). */
class Emit {
  constructor(readonly g: GraphBuilder, private readonly prefix: string) {}
  op(type: string, inputs: string[], attrs: Record<string, unknown> = {}, out?: string): string {
    return this.g.op(type, inputs, attrs as never, out ?? `${this.prefix}${this.g.fresh(type.toLowerCase())}`);
  }
  c(t: Tensor): string {
    const name = `${this.prefix}${this.g.fresh('c')}`;
    this.g.initializer(name, t);
    return name;
  }
  scalarI(v: number): string { return this.c(I64([], [v])); }
  axes(v: number[]): string { return this.c(I64([v.length], v)); }
  dim(x: string, axis: number): string { return this.op('Gather', [this.op('Shape', [x]), this.scalarI(axis)]); }
}

/** Self-attention over [past ; x] with causal mask (+ optional key mask [b, past+t] 0/1 int64). Returns [x', K, V]. */
function selfAttention(e: Emit, x: string, H: number, w: { q: string; k: string; v: string; o: string }, past: { k: string; v: string } | null, posIds: string, pastLen: string, keyMask: string | null): [string, string, string] {
  const u1 = e.axes([1]);
  const q = e.op('Unsqueeze', [e.op('MatMul', [x, w.q]), u1]);
  let k = e.op('Unsqueeze', [e.op('MatMul', [x, w.k]), u1]);
  let v = e.op('Unsqueeze', [e.op('MatMul', [x, w.v]), u1]);
  if (past) {
    k = e.op('Concat', [past.k, k], { axis: 2 });
    v = e.op('Concat', [past.v, v], { axis: 2 });
  }
  const scale = e.c(F32([], Float32Array.of(1 / Math.sqrt(H))));
  let s = e.op('Mul', [e.op('MatMul', [q, e.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), scale]);
  // causal: key position j is hidden from query position p when j > p
  const total = e.op('Add', [pastLen, e.dim(posIds, 0)]);
  const kpos = e.op('Range', [e.scalarI(0), total, e.scalarI(1)]);
  const later = e.op('Less', [e.op('Unsqueeze', [posIds, e.axes([1])]), kpos]);
  const causal = e.op('Where', [later, e.c(F32([], Float32Array.of(NEG))), e.c(F32([], Float32Array.of(0)))]);
  s = e.op('Add', [s, causal]);
  if (keyMask) {
    const m = e.op('Cast', [keyMask], { to: attr.int(1) });
    const add = e.op('Mul', [e.op('Sub', [e.c(F32([], Float32Array.of(1))), m]), e.c(F32([], Float32Array.of(NEG)))]);
    s = e.op('Add', [s, e.op('Unsqueeze', [add, e.axes([1, 2])])]);
  }
  const a = e.op('Squeeze', [e.op('MatMul', [e.op('Softmax', [s], { axis: -1 }), v]), u1]);
  return [e.op('Add', [x, e.op('MatMul', [a, w.o])]), k, v];
}

function crossAttention(e: Emit, x: string, H: number, cq: string, co: string, ek: string, ev: string, encMask: string): string {
  const u1 = e.axes([1]);
  const q = e.op('Unsqueeze', [e.op('MatMul', [x, cq]), u1]);
  const scale = e.c(F32([], Float32Array.of(1 / Math.sqrt(H))));
  let s = e.op('Mul', [e.op('MatMul', [q, e.op('Transpose', [ek], { perm: [0, 1, 3, 2] })]), scale]);
  const m = e.op('Cast', [encMask], { to: attr.int(1) });
  const add = e.op('Mul', [e.op('Sub', [e.c(F32([], Float32Array.of(1))), m]), e.c(F32([], Float32Array.of(NEG)))]);
  s = e.op('Add', [s, e.op('Unsqueeze', [add, e.axes([1, 2])])]);
  const a = e.op('Squeeze', [e.op('MatMul', [e.op('Softmax', [s], { axis: -1 }), ev]), u1]);
  return e.op('Add', [x, e.op('MatMul', [a, co])]);
}

/** Positions past_len + arange(t) and the embedded input. */
function embed(e: Emit, ids: string, E: string, P: string, pastLen: string): [string, string] {
  const t = e.dim(ids, 1);
  const pos = e.op('Range', [pastLen, e.op('Add', [pastLen, t]), e.scalarI(1)]);
  return [e.op('Add', [e.op('Gather', [E, ids]), e.op('Gather', [P, pos])]), pos];
}

function seq2seqInitializers(g: GraphBuilder, w: Seq2SeqWeights, part: 'encoder' | 'decoder'): void {
  const V = w.vocabSize, H = w.hidden, P = w.maxPositions;
  if (part === 'encoder') {
    g.initializer('enc.E', F32([V, H], w.encEmbed)).initializer('enc.P', F32([P, H], w.encPos)).initializer('enc.W', F32([H, H], w.encW));
    return;
  }
  g.initializer('dec.E', F32([V, H], w.decEmbed)).initializer('dec.P', F32([P, H], w.decPos));
  for (const k of ['wq', 'wk', 'wv', 'wo', 'cq', 'ck', 'cv', 'co'] as const) g.initializer(`dec.${k}`, F32([H, H], w[k]));
  g.initializer('dec.wout', F32([H, V], w.wout)).initializer('dec.posBias', F32([P, V], w.posBias));
}

export function seq2seqEncoderOnnx(w: Seq2SeqWeights): Uint8Array {
  const g = new GraphBuilder('tiny-encoder');
  g.input('input_ids', 'int64', ['batch_size', 'encoder_sequence_length']);
  g.input('attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']);
  seq2seqInitializers(g, w, 'encoder');
  const e = new Emit(g, 'e_');
  const [x] = embed(e, 'input_ids', 'enc.E', 'enc.P', e.scalarI(0));
  e.op('Tanh', [e.op('MatMul', [x, 'enc.W'])], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch_size', 'encoder_sequence_length', w.hidden]);
  return g.toModel();
}

const PKV = {
  dk: 'past_key_values.0.decoder.key', dv: 'past_key_values.0.decoder.value',
  ek: 'past_key_values.0.encoder.key', ev: 'past_key_values.0.encoder.value',
};
const PRESENT = {
  dk: 'present.0.decoder.key', dv: 'present.0.decoder.value',
  ek: 'present.0.encoder.key', ev: 'present.0.encoder.value',
};

/** The decoder body; `withPast` reads the four past tensors, else computes the encoder K/V from encoder_hidden_states. */
function decoderBody(e: Emit, w: Seq2SeqWeights, withPast: boolean, outNames: Record<keyof typeof PRESENT | 'logits', string>): void {
  const H = w.hidden;
  const u1 = e.axes([1]);
  const pastLen = withPast ? e.dim(PKV.dk, 2) : e.scalarI(0);
  const [x0, pos] = embed(e, 'input_ids', 'dec.E', 'dec.P', pastLen);
  const [x1, k, v] = selfAttention(e, x0, H, { q: 'dec.wq', k: 'dec.wk', v: 'dec.wv', o: 'dec.wo' }, withPast ? { k: PKV.dk, v: PKV.dv } : null, pos, pastLen, null);
  let ek: string, ev: string;
  if (withPast) {
    ek = PKV.ek;
    ev = PKV.ev;
  } else {
    ek = e.op('Unsqueeze', [e.op('MatMul', ['encoder_hidden_states', 'dec.ck']), u1]);
    ev = e.op('Unsqueeze', [e.op('MatMul', ['encoder_hidden_states', 'dec.cv']), u1]);
  }
  const x2 = crossAttention(e, x1, H, 'dec.cq', 'dec.co', ek, ev, 'encoder_attention_mask');
  e.op('Add', [e.op('MatMul', [x2, 'dec.wout']), e.op('Gather', ['dec.posBias', pos])], {}, outNames.logits);
  e.op('Identity', [k], {}, outNames.dk);
  e.op('Identity', [v], {}, outNames.dv);
  if (outNames.ek) e.op('Identity', [ek], {}, outNames.ek);
  if (outNames.ev) e.op('Identity', [ev], {}, outNames.ev);
}

function cacheDims(len: string): (string | number)[] {
  return ['batch_size', 1, len, -1];
}

function declareDecoderOutputs(g: GraphBuilder, w: Seq2SeqWeights, withEncoder: boolean): void {
  g.output('logits', 'float32', ['batch_size', 'decoder_sequence_length', w.vocabSize]);
  const d = (l: string) => cacheDims(l).map((x) => (x === -1 ? w.hidden : x));
  g.output(PRESENT.dk, 'float32', d('past_decoder_sequence_length + 1'));
  g.output(PRESENT.dv, 'float32', d('past_decoder_sequence_length + 1'));
  if (withEncoder) {
    g.output(PRESENT.ek, 'float32', d('encoder_sequence_length_out'));
    g.output(PRESENT.ev, 'float32', d('encoder_sequence_length_out'));
  }
}

export function seq2seqDecoderOnnx(w: Seq2SeqWeights, withPast: boolean): Uint8Array {
  const g = new GraphBuilder(withPast ? 'tiny-decoder-with-past' : 'tiny-decoder');
  g.input('encoder_attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']);
  g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  if (!withPast) g.input('encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length', w.hidden]);
  else {
    g.input(PKV.dk, 'float32', ['batch_size', 1, 'past_decoder_sequence_length', w.hidden]);
    g.input(PKV.dv, 'float32', ['batch_size', 1, 'past_decoder_sequence_length', w.hidden]);
    g.input(PKV.ek, 'float32', ['batch_size', 1, 'encoder_sequence_length_out', w.hidden]);
    g.input(PKV.ev, 'float32', ['batch_size', 1, 'encoder_sequence_length_out', w.hidden]);
  }
  seq2seqInitializers(g, w, 'decoder');
  const names = { logits: 'logits', dk: PRESENT.dk, dv: PRESENT.dv, ek: withPast ? '' : PRESENT.ek, ev: withPast ? '' : PRESENT.ev };
  decoderBody(new Emit(g, 'd_'), w, withPast, names);
  declareDecoderOutputs(g, w, !withPast);
  return g.toModel();
}

/** optimum's merged decoder: one graph, an If on use_cache_branch choosing the with-past or the no-past body. */
export function seq2seqMergedDecoderOnnx(w: Seq2SeqWeights): Uint8Array {
  const outer = new GraphBuilder('tiny-decoder-merged');
  outer.input('encoder_attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']);
  outer.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  outer.input('encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length', w.hidden]);
  for (const [k, name] of Object.entries(PKV)) {
    outer.input(name, 'float32', ['batch_size', 1, k.startsWith('d') ? 'past_decoder_sequence_length' : 'encoder_sequence_length_out', w.hidden]);
  }
  outer.input('use_cache_branch', 'bool', [1]);
  seq2seqInitializers(outer, w, 'decoder');
  declareDecoderOutputs(outer, w, true);
  const branch = (withPast: boolean): Uint8Array => {
    const g = new GraphBuilder(withPast ? 'with_past' : 'no_past');
    const p = withPast ? 'tp_' : 'np_';
    const names = { logits: `${p}logits`, dk: `${p}dk`, dv: `${p}dv`, ek: `${p}ek`, ev: `${p}ev` };
    decoderBody(new Emit(g, p), w, withPast, names);
    g.output(names.logits, 'float32', null);
    for (const n of [names.dk, names.dv, names.ek, names.ev]) g.output(n, 'float32', null);
    return g.toGraphProto();
  };
  const graphAttr = (name: string, graph: Uint8Array) => new ProtoWriter().string(1, name).message(6, graph).int(20, 5).finish();
  const ifNode = new ProtoWriter();
  ifNode.string(1, 'use_cache_branch');
  for (const o of ['logits', PRESENT.dk, PRESENT.dv, PRESENT.ek, PRESENT.ev]) ifNode.string(2, o);
  ifNode.string(3, 'optimum::if').string(4, 'If');
  ifNode.message(5, graphAttr('then_branch', branch(true))).message(5, graphAttr('else_branch', branch(false)));
  // Repeated protobuf fields may appear in any order: the If node goes before the builder's own fields.
  const graph = new ProtoWriter().message(1, ifNode.finish()).finish();
  const body = outer.toGraphProto();
  const full = new Uint8Array(graph.length + body.length);
  full.set(graph, 0);
  full.set(body, graph.length);
  const m = new ProtoWriter().int(1, 8).string(2, 'evalpred');
  m.message(7, full);
  m.message(8, new ProtoWriter().string(1, '').int(2, 17));
  return m.finish();
}

export function causalLmOnnx(w: CausalLmWeights, withPast: boolean): Uint8Array {
  const V = w.vocabSize, H = w.hidden, P = w.maxPositions;
  const g = new GraphBuilder(withPast ? 'tiny-clm-with-past' : 'tiny-clm');
  g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  g.input('attention_mask', 'int64', ['batch_size', withPast ? 'past_sequence_length + sequence_length' : 'sequence_length']);
  if (withPast) {
    g.input('past_key_values.0.key', 'float32', ['batch_size', 1, 'past_sequence_length', H]);
    g.input('past_key_values.0.value', 'float32', ['batch_size', 1, 'past_sequence_length', H]);
  }
  g.initializer('E', F32([V, H], w.embed)).initializer('P', F32([P, H], w.pos));
  for (const k of ['wq', 'wk', 'wv', 'wo'] as const) g.initializer(k, F32([H, H], w[k]));
  g.initializer('wout', F32([H, V], w.wout)).initializer('posBias', F32([P, V], w.posBias));
  const e = new Emit(g, 'c_');
  const pastLen = withPast ? e.dim('past_key_values.0.key', 2) : e.scalarI(0);
  const [x0, pos] = embed(e, 'input_ids', 'E', 'P', pastLen);
  const [x1, k, v] = selfAttention(e, x0, H, { q: 'wq', k: 'wk', v: 'wv', o: 'wo' }, withPast ? { k: 'past_key_values.0.key', v: 'past_key_values.0.value' } : null, pos, pastLen, 'attention_mask');
  e.op('Add', [e.op('MatMul', [x1, 'wout']), e.op('Gather', ['posBias', pos])], {}, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  if (withPast) {
    e.op('Identity', [k], {}, 'present.0.key');
    e.op('Identity', [v], {}, 'present.0.value');
    g.output('present.0.key', 'float32', ['batch_size', 1, 'past_sequence_length + sequence_length', H]);
    g.output('present.0.value', 'float32', ['batch_size', 1, 'past_sequence_length + sequence_length', H]);
  }
  return g.toModel();
}
