// Extractive QA as QuestionAnsweringTrainer evaluates it (transformers' examples/pytorch/question-answering:
// run_qa.py's post_processing_function and utils_qa.postprocess_qa_predictions): the start/end logits over
// features (overflowing windows of each context) become one answer text per example, and compute_metrics gets
// predictions [{"id", "prediction_text"}] and label_ids [{"id", "answers"}] (docs/trainer-semantics.md#question-answering-with-doc-stride).
import { EvalpredError } from '../errors';
import { cacheDamage, readAttachment, readCache } from '../cache/reader';
import { messageOf } from '../errors';
import type { QaExample, QaFeature, QaPostprocessOptions, QaRecord } from '../loop/qaFeatures';
import { QA_ATTACHMENT, QA_POSTPROCESS_DEFAULTS, qaRecordFromJson } from '../loop/qaFeatures';
import { EvalPredictionData, Tensor } from '../tensor/tensor';

export interface QaPostprocessed {
  /** example id -> answer text, in example order (postprocess_qa_predictions' all_predictions). */
  answers: Map<string, string>;
  /** SQuAD v2 only: example id -> null score minus the best non-null score. */
  scoreDiffs: Map<string, number>;
}

interface Candidate {
  offsets: [number, number];
  score: number;
  startLogit: number;
  endLogit: number;
  text?: string;
}

const f32 = Math.fround;

/**
 * `np.argsort(x)[-1 : -n - 1 : -1]`: the indices of the n largest values, largest first. NumPy's default sort is
 * not stable; on equal values this takes the higher index first (a stable ascending sort, reversed).
 */
function topIndices(row: Float32Array | Float64Array, n: number): number[] {
  const idx = Array.from(row.keys());
  idx.sort((a, b) => row[a] - row[b] || a - b);
  return idx.slice(Math.max(0, idx.length - n)).reverse();
}

function logitRows(t: Tensor, name: string, features: number): (i: number) => Float32Array | Float64Array {
  if (t.ndim !== 2 || t.shape[0] !== features || (t.dtype !== 'float32' && t.dtype !== 'float64')) {
    throw new EvalpredError(`${name} must be a float array [${features} features, tokens], got ${t.dtype}[${t.shape.join(', ')}].`, { tensor: name });
  }
  const w = t.shape[1];
  const data = t.data as Float32Array | Float64Array;
  return (i) => data.subarray(i * w, (i + 1) * w);
}

export function postprocessQaPredictions(
  examples: readonly QaExample[],
  features: readonly QaFeature[],
  startLogits: Tensor,
  endLogits: Tensor,
  opts: QaPostprocessOptions = QA_POSTPROCESS_DEFAULTS,
): QaPostprocessed {
  const startRow = logitRows(startLogits, 'start_logits', features.length);
  const endRow = logitRows(endLogits, 'end_logits', features.length);
  // A dict over examples["id"]: a repeated id maps to its last example, as in utils_qa.
  const exampleIndex = new Map<string, number>();
  examples.forEach((e, i) => exampleIndex.set(e.id, i));
  const featuresOf: number[][] = examples.map(() => []);
  features.forEach((f, i) => {
    const e = exampleIndex.get(f.exampleId);
    if (e === undefined) throw new EvalpredError(`feature ${i} belongs to example id ${JSON.stringify(f.exampleId)}, which no example has.`);
    featuresOf[e].push(i);
  });
  const answers = new Map<string, string>();
  const scoreDiffs = new Map<string, number>();
  const { nBestSize: n, maxAnswerLength } = opts;
  examples.forEach((example, ei) => {
    let minNull: Candidate | undefined;
    const prelim: Candidate[] = [];
    for (const fi of featuresOf[ei]) {
      const s = startRow(fi), e = endRow(fi);
      const offsets = features[fi].offsets;
      const nullScore = f32(s[0] + e[0]);
      if (minNull === undefined || minNull.score > nullScore) minNull = { offsets: [0, 0], score: nullScore, startLogit: s[0], endLogit: e[0] };
      const starts = topIndices(s, n), ends = topIndices(e, n);
      for (const si of starts) {
        for (const ej of ends) {
          if (si >= offsets.length || ej >= offsets.length) continue;
          const os = offsets[si], oe = offsets[ej];
          if (os === null || oe === null) continue;
          if (ej < si || ej - si + 1 > maxAnswerLength) continue;
          prelim.push({ offsets: [os[0], oe[1]], score: f32(s[si] + e[ej]), startLogit: s[si], endLogit: e[ej] });
        }
      }
    }
    if (opts.version2WithNegative && minNull) prelim.push(minNull);
    // sorted(..., reverse=True) keeps equal scores in their original order, as Array.prototype.sort does.
    const best = prelim.sort((a, b) => b.score - a.score).slice(0, n);
    if (opts.version2WithNegative && minNull && !best.some((p) => p.offsets[0] === 0 && p.offsets[1] === 0)) best.push(minNull);
    const chars = Array.from(example.context); // Python slices strings by code point
    for (const p of best) p.text = chars.slice(p.offsets[0], p.offsets[1]).join('');
    if (best.length === 0 || (best.length === 1 && best[0].text === '')) best.unshift({ offsets: [0, 0], text: 'empty', startLogit: 0, endLogit: 0, score: 0 });
    if (!opts.version2WithNegative) {
      answers.set(example.id, best[0].text!);
      return;
    }
    const nonNull = best.find((p) => p.text !== '');
    if (!nonNull) throw new EvalpredError(`example ${JSON.stringify(example.id)}: no candidate answer has any text (utils_qa fails here with an IndexError).`);
    const diff = f32(f32(minNull!.score - nonNull.startLogit) - nonNull.endLogit);
    scoreDiffs.set(example.id, diff);
    answers.set(example.id, diff > f32(opts.nullScoreDiffThreshold) ? '' : nonNull.text!);
  });
  return { answers, scoreDiffs };
}

export interface QaEvalPrediction {
  predictions: { id: string; prediction_text: string; no_answer_probability?: number }[];
  label_ids: { id: string; answers: unknown }[];
}

/** run_qa's post_processing_function: the EvalPrediction QuestionAnsweringTrainer hands to compute_metrics. */
export function qaEvalPrediction(examples: readonly QaExample[], post: QaPostprocessed, version2WithNegative: boolean): QaEvalPrediction {
  const predictions = [...post.answers].map(([id, text]) => (version2WithNegative ? { id, prediction_text: text, no_answer_probability: 0 } : { id, prediction_text: text }));
  return { predictions, label_ids: examples.map((e) => ({ id: e.id, answers: e.answers })) };
}

/**
 * The post-processed EvalPrediction of a cache made with a doc stride (its "qa_postprocess" attachment), or undefined
 * for any other cache: what every metric run on it hands to compute_metrics, in either language.
 */
export function postprocessedQa(cacheDir: string, evalPred?: EvalPredictionData): QaEvalPrediction | undefined {
  const json = readAttachment(cacheDir, QA_ATTACHMENT);
  if (json === undefined) return undefined;
  let record: QaRecord;
  try {
    record = qaRecordFromJson(json);
  } catch (e) {
    throw cacheDamage(cacheDir, `its ${QA_ATTACHMENT}.json ${messageOf(e)}`);
  }
  const p = (evalPred ?? readCache(cacheDir).evalPred).predictions;
  const pair = p && !(p instanceof Tensor) && 'tuple' in p && p.tuple.length === 2 && p.tuple.every((t) => t instanceof Tensor) ? (p.tuple as Tensor[]) : undefined;
  if (!pair) throw cacheDamage(cacheDir, `a cache with ${QA_ATTACHMENT}.json holds predictions that are not the pair (start_logits, end_logits) run_qa post-processes`);
  const post = postprocessQaPredictions(record.examples, record.features, pair[0], pair[1], record.options);
  return qaEvalPrediction(record.examples, post, record.options.version2WithNegative);
}
