// Fitting the demo model: the exact function the ONNX graph computes (mean of token embeddings over the
// attention mask -> tanh -> linear -> 2 logits), trained with softmax cross-entropy and full-batch Adam in
// float64. Small enough to run in ~100 ms on every `evalpred demo`, so no weights ship with the tool.
import { Rng, uniformFloat32 } from './prng';
import { SeqClsWeights } from './tinyModels';

/** BERT-style uncased tokenization for in-vocabulary text: lowercase, split on spaces and punctuation,
 * greedy longest-match WordPiece with `##` continuations, then [CLS] ... [SEP]. */
export function wordPieceIds(text: string, vocab: ReadonlyMap<string, number>): number[] {
  const id = (t: string) => vocab.get(t) ?? vocab.get('[UNK]')!;
  const ids = [id('[CLS]')];
  const words = text.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? [];
  for (const word of words) {
    const pieces: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: number | undefined;
      for (; end > start; end--) {
        found = vocab.get((start > 0 ? '##' : '') + word.slice(start, end));
        if (found !== undefined) break;
      }
      if (found === undefined) {
        pieces.length = 0;
        pieces.push(id('[UNK]'));
        break;
      }
      pieces.push(found);
      start = end;
    }
    ids.push(...pieces);
  }
  ids.push(id('[SEP]'));
  return ids;
}

export interface TrainOptions {
  vocabSize: number;
  hidden: number;
  epochs: number;
  learningRate: number;
  /** L2 penalty on all weights (keeps the logits moderate, so probabilities look like a real model's). */
  l2: number;
}

/** Train on (token ids, label) pairs; returns float32 weights for tinyModelOnnx. */
export function trainMeanPoolClassifier(rng: Rng, samples: { ids: number[]; label: number }[], o: TrainOptions): SeqClsWeights {
  const H = o.hidden;
  const L = 2;
  const E = Float64Array.from(uniformFloat32(rng, o.vocabSize * H, 0.1));
  const W = Float64Array.from(uniformFloat32(rng, H * L, 0.1));
  const b = new Float64Array(L);
  const params = [E, W, b];
  const adam = params.map((p) => ({ m: new Float64Array(p.length), v: new Float64Array(p.length) }));
  const grads = params.map((p) => new Float64Array(p.length));
  const [gE, gW, gb] = grads;
  const m = new Float64Array(H);
  const p = new Float64Array(H);
  const dp = new Float64Array(H);
  const n = samples.length;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (const g of grads) g.fill(0);
    for (const { ids, label } of samples) {
      m.fill(0);
      for (const t of ids) for (let h = 0; h < H; h++) m[h] += E[t * H + h];
      for (let h = 0; h < H; h++) p[h] = Math.tanh(m[h] / ids.length);
      const z0 = b[0] + dot(p, W, 0, L);
      const z1 = b[1] + dot(p, W, 1, L);
      // softmax over two logits; d loss / d z = softmax - onehot
      const p1 = 1 / (1 + Math.exp(z0 - z1));
      const dz = [1 - p1 - (label === 0 ? 1 : 0), p1 - (label === 1 ? 1 : 0)];
      for (let j = 0; j < L; j++) gb[j] += dz[j] / n;
      for (let h = 0; h < H; h++) {
        gW[h * L] += (p[h] * dz[0]) / n;
        gW[h * L + 1] += (p[h] * dz[1]) / n;
        dp[h] = (W[h * L] * dz[0] + W[h * L + 1] * dz[1]) * (1 - p[h] * p[h]);
      }
      for (const t of ids) for (let h = 0; h < H; h++) gE[t * H + h] += dp[h] / ids.length / n;
    }
    params.forEach((param, k) => {
      const g = grads[k];
      const { m: am, v: av } = adam[k];
      const c1 = 1 - 0.9 ** epoch;
      const c2 = 1 - 0.999 ** epoch;
      for (let i = 0; i < param.length; i++) {
        const gi = g[i] + o.l2 * param[i];
        am[i] = 0.9 * am[i] + 0.1 * gi;
        av[i] = 0.999 * av[i] + 0.001 * gi * gi;
        param[i] -= (o.learningRate * (am[i] / c1)) / (Math.sqrt(av[i] / c2) + 1e-8);
      }
    });
  }
  return {
    kind: 'seq-cls',
    vocabSize: o.vocabSize,
    hidden: H,
    wordEmbeddings: Float32Array.from(E),
    tokenTypeEmbeddings: null,
    numLabels: L,
    classifierWeight: Float32Array.from(W),
    classifierBias: Float32Array.from(b),
    float16Logits: false,
    extraOutputs: false,
  };
}

function dot(p: Float64Array, W: Float64Array, col: number, cols: number): number {
  let s = 0;
  for (let h = 0; h < p.length; h++) s += p[h] * W[h * cols + col];
  return s;
}
