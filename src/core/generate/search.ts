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

/**
 * Apply the enabled logits processors in place to `scores` [rows * V] for sequences `seqs` (cur_len = their
 * length), in the order generate()'s _get_logits_processor lists them: repetition penalty, no-repeat n-grams, bad
 * words, min length, min new tokens, forced bos, forced eos (docs/trainer-semantics.md#generation-options).
 */
export function processLogits(scores: Float32Array, seqs: number[][], V: number, gc: GenerationConfig): void {
  const curLen = seqs[0]?.length ?? 0;
  if (gc.repetitionPenalty !== 1) {
    // RepetitionPenaltyLogitsProcessor: each token already in the row (prompt included), once: a negative score
    // times the penalty, another divided by it; float32 arithmetic with the penalty as a float32 scalar, as torch.
    const p = f32(gc.repetitionPenalty);
    seqs.forEach((s, r) => {
      for (const t of new Set(s)) {
        if (t < 0 || t >= V) continue;
        const x = scores[r * V + t];
        scores[r * V + t] = x < 0 ? f32(x * p) : f32(x / p);
      }
    });
  }
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
  if (gc.badWordsIds) applyBadWords(scores, seqs, V, gc);
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

/**
 * NoBadWordsLogitsProcessor (a SequenceBiasLogitsProcessor with -inf biases): a one-token bad word is always
 * banned; a longer one bans its last token when the row ends with the rest. Bad words equal to [eos] are dropped.
 * The bias is added (score + -inf), as transformers adds it.
 */
function applyBadWords(scores: Float32Array, seqs: number[][], V: number, gc: GenerationConfig): void {
  const words = (gc.badWordsIds ?? []).filter((w) => !(w.length === 1 && gc.eosTokenIds.includes(w[0])));
  const outside = [...new Set(words.flat().filter((t) => t >= V))];
  if (outside.length) {
    throw new EvalpredError(`bad_words_ids names token ids the model's vocabulary (${V} tokens) does not have: ${outside.join(', ')} (transformers raises the same).`, { column: 'bad_words_ids' });
  }
  const curLen = seqs[0]?.length ?? 0;
  for (let r = 0; r < seqs.length; r++) {
    const s = seqs[r];
    const banned = new Set<number>();
    for (const w of words) {
      if (w.length === 1) {
        banned.add(w[0]);
        continue;
      }
      const prefixLen = w.length - 1;
      if (gc.badWordsNeedLongerContext ? w.length > curLen : prefixLen > curLen) continue;
      let match = true;
      for (let j = 0; j < prefixLen && match; j++) if (s[curLen - prefixLen + j] !== w[j]) match = false;
      if (match) banned.add(w[prefixLen]);
    }
    for (const t of banned) scores[r * V + t] += -Infinity;
  }
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

/** A finished hypothesis of one input (transformers' `sequences` / `beam_scores` / `is_sent_finished` slot). */
interface Finished {
  seq: number[];
  score: number;
  done: boolean;
}

/**
 * Beam search as transformers 4.57 and 5.x run it (GenerationMixin._beam_search, the vectorised one: top-k
 * continuations, running beams, a pool of num_beams finished hypotheses per input kept sorted by score, the
 * early-stop heuristic). Rows of `prompts` are the batch; the stepper runs on batch * numBeams rows (its encoder
 * state already expanded with repeatRows). Returns batch * num_return_sequences rows, each input's best first,
 * filled past their end with `pad_token_id or eos_token_id[0]` (a pad id of 0 is falsy there, so T5 rows are
 * filled with eos) and cut to the longest returned hypothesis (docs/trainer-semantics.md#generation-options).
 * Scores are float32 as torch keeps them: float32 ops with Python scalars cast to float32.
 */
export async function beamSearch(stepper: Stepper, prompts: number[][], gc: GenerationConfig): Promise<Tensor> {
  const k = gc.numBeams;
  const nReturn = gc.numReturnSequences ?? 1;
  const batch = prompts.length;
  const eos = new Set(gc.eosTokenIds);
  const fill = gc.eosTokenIds.length ? (gc.padTokenId ? gc.padTokenId : gc.eosTokenIds[0]) : -1;
  const promptLen = prompts[0].length;
  const keep = Math.max(2, 1 + gc.eosTokenIds.length) * k;
  const NEG = -1e9;
  const lp = gc.lengthPenalty;
  let running: number[][] = [];
  for (const p of prompts) for (let j = 0; j < k; j++) running.push([...p]);
  // only the first beam of each input is live at the start, so the first step does not pick k copies
  let runningScores = new Float32Array(batch * k);
  for (let b = 0; b < batch; b++) for (let j = 1; j < k; j++) runningScores[b * k + j] = NEG;
  const pool: Finished[][] = prompts.map((p) => Array.from({ length: k }, () => ({ seq: [...p], score: NEG, done: false })));
  const unsatisfied = prompts.map(() => true);
  let beamIdx: Int32Array | null = null;
  let curLen = promptLen;
  while (true) {
    const scores = await stepper.next(toTensor(running), beamIdx);
    const V = scores.length / running.length;
    logSoftmax(scores, V);
    processLogits(scores, running, V, gc);
    for (let r = 0; r < running.length; r++) for (let v = 0; v < V; v++) scores[r * V + v] = f32(scores[r * V + v] + runningScores[r]);
    const nextRunning: number[][] = [];
    const nextScores = new Float32Array(batch * k);
    const nextIdx = new Int32Array(batch * k);
    let allHit = true;
    for (let b = 0; b < batch; b++) {
      // _get_top_k_continuations: the `keep` best of this input's k * V candidates (ties: lower index first)
      const cand = topK(scores, b * k * V, k * V, keep).map((flat) => {
        const beam = Math.floor(flat / V), token = flat % V;
        const seq = [...running[b * k + beam], token];
        // stopping criteria on the continued sequence: eos, or max_length reached
        const hit = eos.has(token) || seq.length >= gc.maxLength;
        return { score: scores[b * k * V + flat], seq, row: b * k + beam, hit };
      });
      if (!cand.every((c) => c.hit)) allHit = false;
      // _get_running_beams_for_next_iteration: the k best once finished candidates get -1e9
      const runScore = cand.map((c) => f32(c.score + (c.hit ? NEG : -0)));
      const order = rankDesc(runScore).slice(0, k);
      order.forEach((i, j) => {
        nextRunning.push(cand[i].seq);
        nextScores[b * k + j] = runScore[i];
        nextIdx[b * k + j] = cand[i].row;
      });
      // _update_finished_beams: merge the pool with the candidates that finished among the top k
      const P = pool[b];
      const full = P.every((f) => f.done) && gc.earlyStopping === true;
      const denom = f32((curLen + 1 - promptLen) ** lp);
      const merged: Finished[] = [
        ...P,
        ...cand.map((c, i) => {
          let sc = f32(c.score / denom);
          sc = f32(sc + (full ? NEG : -0));
          sc = f32(sc + (unsatisfied[b] ? -0 : NEG));
          const done = c.hit && i < k;
          sc = f32(sc + (done ? -0 : NEG));
          return { seq: c.seq, score: sc, done };
        }),
      ];
      pool[b] = rankDesc(merged.map((m) => m.score))
        .slice(0, k)
        .map((i) => merged[i]);
    }
    running = nextRunning;
    runningScores = nextScores;
    beamIdx = nextIdx;
    curLen++;
    // _check_early_stop_heuristic: can the best running beam still beat the worst finished hypothesis?
    const bestLen = gc.earlyStopping === 'never' && lp > 0 ? gc.maxLength - promptLen : curLen - promptLen;
    for (let b = 0; b < batch; b++) {
      const best = f32(runningScores[b * k] / f32(bestLen ** lp));
      const worst = Math.min(...pool[b].map((f) => f.score));
      unsatisfied[b] = unsatisfied[b] && pool[b].some((f) => best > (f.done ? worst : NEG));
    }
    // _beam_search_has_unfinished_sequences
    const openBeam = !(gc.earlyStopping === true && pool.every((P) => P.every((f) => f.done)));
    if (!(unsatisfied.some(Boolean) && openBeam && !allHit)) break;
  }
  const out = pool.flatMap((P) => P.slice(0, nReturn).map((f) => f.seq));
  const width = Math.max(...out.map((s) => s.length));
  const t = Tensor.full('int64', [out.length, width], fill);
  const d = t.data as BigInt64Array;
  out.forEach((s, r) => s.forEach((v, j) => (d[r * width + j] = BigInt(v))));
  return t;
}

/** Indices of `xs` ordered by value, largest first; equal values keep their order (torch.topk on CPU, as assumed throughout). */
function rankDesc(xs: ArrayLike<number>): number[] {
  return Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => (xs[b] > xs[a] ? 1 : xs[b] < xs[a] ? -1 : a - b));
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
