// The greedy decode both seq2seq benches time (generation, t5Small): one fixed source batch, encoded once,
// decoded with and without the KV cache; the two outputs are checked to agree before any timing.
import { effectiveConfig, readGenerationConfig } from '../src/core/generate/generationConfig';
import { greedySearch } from '../src/core/generate/search';
import { Seq2SeqModel } from '../src/core/generate/seq2seqModel';
import { Tensor } from '../src/core/tensor/tensor';
import type { Stepper } from '../src/core/generate/stepper';

/** A generation stepper that records each call's time (ms) in `times`. */
function timedStepper(st: Stepper, times: number[]): Stepper {
  return {
    vocabSize: st.vocabSize,
    stats: st.stats,
    async next(seqs, beamIdx) {
      const t0 = performance.now();
      const r = await st.next(seqs, beamIdx);
      times.push(performance.now() - t0);
      return r;
    },
  };
}

export interface KvCacheRun {
  /** Decode `newTokens` tokens per row, recording each step's time (ms) in `times`. */
  run(cache: boolean, times?: number[]): Promise<Tensor>;
  close(): Promise<void>;
}

/** Open the seq2seq export in `dir` (generation_config.json sets the length) for a batch of ids `5 + (i * idStride) % (vocab - 5)`. */
export async function openKvCacheRun(dir: string, o: { batch: number; src: number; newTokens: number; vocab: number; idStride: number }): Promise<KvCacheRun> {
  // One intra-op thread: on a shared machine a spinning thread pool adds multi-ms stalls to sub-ms steps.
  const model = await Seq2SeqModel.open(dir, { intraOpNumThreads: 1 });
  const gc = effectiveConfig(readGenerationConfig(dir), {}, 1);
  const ids = Tensor.from('int64', [o.batch, o.src], Array.from({ length: o.batch * o.src }, (_, i) => 5 + ((i * o.idStride) % (o.vocab - 5))));
  const enc = await model.encode(ids, Tensor.full('int64', [o.batch, o.src], 1));
  const prompts = () => Array.from({ length: o.batch }, () => [0]);
  const run = async (cache: boolean, times: number[] = []) => {
    const out = await greedySearch(timedStepper(model.stepper(enc, cache), times), prompts(), gc);
    if (out.shape[1] !== o.newTokens + 1) throw new Error(`expected ${o.newTokens} new tokens, got ${out.shape[1] - 1}`);
    return out;
  };
  const a = await run(true), b = await run(false); // warm-up, and the two must agree
  if (a.toArray().toString() !== b.toArray().toString()) throw new Error('cached and uncached generation disagree');
  return { run, close: () => model.close() };
}
