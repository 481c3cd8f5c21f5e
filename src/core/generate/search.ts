// Greedy search and beam search as transformers' generate() runs them (GenerationMixin._sample with
// do_sample=False, and _beam_search with BeamSearchScorer/BeamHypotheses), with the logits processors the
// generation config can switch on: no_repeat_ngram_size, forced_bos_token_id, forced_eos_token_id.
// Scores are float32 where torch keeps them in float32 (log_softmax, beam sums); hypothesis scores with the
// length penalty are Python floats, as BeamHypotheses computes them from .item().
import { EvalpredError } from '../errors';
import { Tensor } from '../tensor/tensor';
import { GenerationConfig } from './generationConfig';
import { Stepper } from './stepper';

const f32 = Math.fround;

/** The pad id generate() fills finished rows with: pad_token_id, else eos_token_id[0] (transformers warns then). */
export function generationPadId(gc: GenerationConfig): number {
  if (gc.padTokenId !== null) return gc.padTokenId;
  if (gc.eosTokenIds.length) return gc.eosTokenIds[0];
  throw new EvalpredError('generation needs a pad_token_id or an eos_token_id in generation_config.json / config.json to fill finished rows.');
}

/** Apply the enabled logits processors in place to `scores` [rows * V] for sequences `seqs` (cur_len = their length). */
export function processLogits(scores: Float32Array, seqs: number[][], V: number, gc: GenerationConfig): void {
  const curLen = seqs[0]?.length ?? 0;
  const n = gc.noRepeatNgramSize;
  if (n > 0 && curLen + 1 >= n) {
    // NoRepeatNGramLogitsProcessor: ban tokens that would complete an n-gram already present in the row.
    seqs.forEach((s, r) => {
      const prefix = s.slice(curLen - n + 1);
      for (let i = 0; i + n <= s.length; i++) {
        let match = true;
        for (let j = 0; j < n - 1 && match; j++) if (s[i + j] !== prefix[j]) match = false;
        if (match) scores[r * V + s[i + n - 1]] = -Infinity;
      }
    });
  }
  // MinLength / MinNewTokens come before the forced tokens in transformers' processor list
  const promptLen = gc.promptLength ?? 1;
  if (gc.eosTokenIds.length && (curLen < gc.minLength || (gc.minNewTokens !== null && curLen - promptLen < gc.minNewTokens))) {
    for (let r = 0; r < seqs.length; r++) for (const e of gc.eosTokenIds) scores[r * V + e] = -Infinity;
  }
  const force = (ids: number[]) => {
    for (let r = 0; r < seqs.length; r++) {
      scores.fill(-Infinity, r * V, (r + 1) * V);
      for (const id of ids) scores[r * V + id] = 0;
    }
  };
  if (gc.forcedBosTokenId !== null && curLen === 1) force([gc.forcedBosTokenId]);
  if (gc.forcedEosTokenIds.length && curLen === gc.maxLength - 1) force(gc.forcedEosTokenIds);
}

function toTensor(seqs: number[][]): Tensor {
  const rows = seqs.length, t = seqs[0].length;
  const d = new BigInt64Array(rows * t);
  for (let r = 0; r < rows; r++) for (let j = 0; j < t; j++) d[r * t + j] = BigInt(seqs[r][j]);
  return new Tensor('int64', [rows, t], d);
}

/** Greedy decoding from `prompts` (all the same length) until every row has produced eos or max_length is reached. */
export async function greedySearch(stepper: Stepper, prompts: number[][], gc: GenerationConfig): Promise<Tensor> {
  const pad = generationPadId(gc);
  const eos = new Set(gc.eosTokenIds);
  const seqs = prompts.map((p) => [...p]);
  const unfinished = seqs.map(() => true);
  // At least one step, as transformers' loop checks its stopping criteria only after a token (a prompt already
  // at max_length still gets one new token, with a warning there).
  do {
    const logits = await stepper.next(toTensor(seqs), null);
    const V = logits.length / seqs.length;
    processLogits(logits, seqs, V, gc);
    for (let r = 0; r < seqs.length; r++) {
      let best = 0;
      let bv = logits[r * V];
      // torch.argmax: first maximum wins; NaN counts as the maximum
      for (let v = 1; v < V; v++) {
        const x = logits[r * V + v];
        if (x > bv || (Number.isNaN(x) && !Number.isNaN(bv))) {
          bv = x;
          best = v;
        }
      }
      const tok = unfinished[r] ? best : pad;
      seqs[r].push(tok);
      if (unfinished[r] && eos.has(tok)) unfinished[r] = false;
    }
    if (!unfinished.some(Boolean)) break;
  } while (seqs[0].length < gc.maxLength);
  return toTensor(seqs);
}

/** BeamHypotheses: the best finished hypotheses of one input row. */
class BeamHypotheses {
  beams: { score: number; hyp: number[] }[] = [];
  worstScore = 1e9;
  constructor(
    private readonly numBeams: number,
    private readonly lengthPenalty: number,
    private readonly earlyStopping: boolean | 'never',
    private readonly maxLength: number,
  ) {}

  add(hyp: number[], sumLogprobs: number, generatedLen: number): void {
    const score = sumLogprobs / generatedLen ** this.lengthPenalty;
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ score, hyp });
      if (this.beams.length > this.numBeams) {
        const sorted = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice(sorted[0][1], 1);
        this.worstScore = sorted[1][0];
      } else this.worstScore = Math.min(score, this.worstScore);
    }
  }

  isDone(bestSumLogprobs: number, curLen: number, promptLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    let highest: number;
    if (this.earlyStopping === false || this.lengthPenalty <= 0) highest = bestSumLogprobs / (curLen - promptLen) ** this.lengthPenalty;
    else highest = bestSumLogprobs / (this.maxLength - promptLen) ** this.lengthPenalty;
    return this.worstScore >= highest;
  }
}

/** log_softmax over each row of [rows * V], in float32 as torch computes it. */
function logSoftmax(x: Float32Array, V: number): void {
  for (let r = 0; r < x.length / V; r++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, x[r * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(x[r * V + v] - m);
    const lse = m + Math.log(s);
    for (let v = 0; v < V; v++) x[r * V + v] = f32(x[r * V + v] - lse);
  }
}

/**
 * Beam search (num_return_sequences 1): rows of `prompts` are the batch (one prompt per input); the stepper
 * runs on batch * numBeams rows (its encoder state must already be expanded with repeatRows).
 * Returns the best hypothesis per input, padded as BeamSearchScorer.finalize pads: eos after a shorter
 * hypothesis, pad beyond it.
 */
export async function beamSearch(stepper: Stepper, prompts: number[][], gc: GenerationConfig): Promise<Tensor> {
  const k = gc.numBeams;
  const batch = prompts.length;
  const pad = generationPadId(gc);
  const eos = new Set(gc.eosTokenIds);
  const promptLen = prompts[0].length;
  let seqs: number[][] = [];
  for (const p of prompts) for (let j = 0; j < k; j++) seqs.push([...p]);
  // Only the first beam of each input is live at the start, so the first step does not pick k copies.
  let beamScores = new Float32Array(batch * k);
  for (let b = 0; b < batch; b++) for (let j = 1; j < k; j++) beamScores[b * k + j] = -1e9;
  const hyps = prompts.map(() => new BeamHypotheses(k, gc.lengthPenalty, gc.earlyStopping, gc.maxLength));
  const done = prompts.map(() => false);
  let beamIdx: Int32Array | null = null;
  const keep = Math.max(2, 1 + eos.size) * k;
  while (true) {
    const scores = await stepper.next(toTensor(seqs), beamIdx);
    const V = scores.length / seqs.length;
    logSoftmax(scores, V);
    processLogits(scores, seqs, V, gc);
    for (let r = 0; r < seqs.length; r++) for (let v = 0; v < V; v++) scores[r * V + v] = f32(scores[r * V + v] + beamScores[r]);
    const curLen = seqs[0].length + 1; // the length next_scores are computed for
    const nextScores = new Float32Array(batch * k);
    const nextTokens = new Int32Array(batch * k);
    const nextIdx = new Int32Array(batch * k);
    for (let b = 0; b < batch; b++) {
      // torch.topk over the k*V candidates of this input, best first (ties: lower index first)
      const base = b * k * V;
      const cand = topK(scores, base, k * V, keep);
      if (done[b]) {
        for (let j = 0; j < k; j++) {
          nextScores[b * k + j] = 0;
          nextTokens[b * k + j] = pad;
          nextIdx[b * k + j] = 0;
        }
        continue;
      }
      let j = 0;
      for (let rank = 0; rank < cand.length; rank++) {
        const flat = cand[rank];
        const score = scores[base + flat];
        const token = flat % V;
        const row = b * k + Math.floor(flat / V);
        if (eos.has(token)) {
          if (rank >= k) continue;
          hyps[b].add([...seqs[row]], score, curLen - promptLen);
        } else {
          nextScores[b * k + j] = score;
          nextTokens[b * k + j] = token;
          nextIdx[b * k + j] = row;
          j++;
        }
        if (j === k) break;
      }
      if (j < k) throw new EvalpredError(`beam search: at most ${keep} tokens can be considered per step, which is not enough for ${k} beams with ${eos.size} eos ids.`);
      let best = -Infinity;
      for (const flat of cand) best = Math.max(best, scores[base + flat]);
      done[b] = done[b] || hyps[b].isDone(best, curLen, promptLen);
    }
    beamIdx = nextIdx;
    seqs = Array.from(nextIdx, (row, i) => [...seqs[row], nextTokens[i]]);
    beamScores = nextScores;
    if (done.every(Boolean) || seqs[0].length >= gc.maxLength) break;
  }
  // finalize: open beams of unfinished inputs become hypotheses too
  for (let b = 0; b < batch; b++) {
    if (done[b]) continue;
    for (let j = 0; j < k; j++) hyps[b].add(seqs[b * k + j], beamScores[b * k + j], seqs[b * k + j].length - promptLen);
  }
  const best = hyps.map((h) => {
    // sorted by score ascending, pop the last (Python's sort is stable: equal scores keep insertion order)
    const sorted = h.beams.map((x, i) => ({ ...x, i })).sort((a, c) => a.score - c.score || a.i - c.i);
    return sorted[sorted.length - 1].hyp;
  });
  const lens = best.map((h) => h.length);
  const width = Math.min(Math.max(...lens) + 1, gc.maxLength);
  const out = Tensor.full('int64', [batch, width], pad);
  const d = out.data as BigInt64Array;
  best.forEach((h, b) => {
    for (let j = 0; j < h.length && j < width; j++) d[b * width + j] = BigInt(h[j]);
    if (h.length < width) d[b * width + h.length] = BigInt(gc.eosTokenIds[0] ?? pad);
  });
  return out;
}

/** Flat indices (relative to base) of the `count` largest of scores[base, base+n), best first. */
function topK(scores: Float32Array, base: number, n: number, count: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = scores[base + i];
    if (idx.length < count) {
      idx.push(i);
      let p = idx.length - 1;
      while (p > 0 && better(scores, base, idx[p], idx[p - 1])) {
        [idx[p], idx[p - 1]] = [idx[p - 1], idx[p]];
        p--;
      }
    } else if (s > scores[base + idx[count - 1]]) {
      idx[count - 1] = i;
      let p = count - 1;
      while (p > 0 && better(scores, base, idx[p], idx[p - 1])) {
        [idx[p], idx[p - 1]] = [idx[p - 1], idx[p]];
        p--;
      }
    }
  }
  return idx;
}

function better(s: Float32Array, base: number, a: number, b: number): boolean {
  return s[base + a] > s[base + b] || (s[base + a] === s[base + b] && a < b);
}
