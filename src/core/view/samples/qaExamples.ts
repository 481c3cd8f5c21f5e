// Extractive QA evaluated with a doc stride (docs/trainer-semantics.md#question-answering-with-doc-stride): one row per
// example, not per feature. The prediction is the answer run_qa's post-processing picks over all the example's
// windows (the text compute_metrics gets), set against the references; exact match and F1 are SQuAD's per question.
import type { QaEvalPrediction } from '../../metrics/qaPostprocess';
import { answerScores, answerTexts } from './questionAnswering';
import { TaskContext, TaskRows, correctScore } from './types';

export function qaExampleRows(ctx: TaskContext, qa: QaEvalPrediction): TaskRows {
  const { cols } = ctx;
  const f1 = new Float64Array(cols.n).fill(NaN);
  const refs = qa.label_ids.map((r) => answerTexts(r.answers));
  const texts = qa.predictions.map((p) => p.prediction_text);
  for (let i = 0; i < cols.n; i++) {
    const answers = refs[i];
    if (!answers) continue;
    const sc = answerScores(texts[i], answers);
    cols.correct[i] = sc.exact;
    f1[i] = sc.f1;
  }
  if (refs.some((r) => r === undefined)) ctx.note('some examples have no SQuAD answers ({"text": [...]}) to score the post-processed answer against');
  return {
    scores: [correctScore('exact_match', cols.correct), { name: 'f1', values: f1 }],
    describe(i, v) {
      v.prediction = texts[i];
      const answers = refs[i];
      if (answers) v.label = answers.length ? answers.join(' | ') : '(no answer)';
    },
    searchable: (i) => `${texts[i]}\n${(refs[i] ?? []).join('\n')}`,
  };
}
