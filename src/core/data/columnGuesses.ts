// The column names `evalpred run` tries when no column is given, per task: one list for the CLI's planners
// (src/core/loop/batches.ts, src/core/generate/familySetup.ts) and the palette's pre-fill
// (src/extension/runPlan.ts), so what the palette proposes is what the run would pick.
import type { ClassifierTaskName } from '../tasks';

export const COLUMN_GUESSES = {
  /** Classifier text columns, with the pair column that goes with each. */
  text: [
    ['sentence1', 'sentence2'],
    ['premise', 'hypothesis'],
    ['question1', 'question2'],
    ['sentence', undefined],
    ['text', undefined],
    ['content', undefined],
    ['review', undefined],
    ['document', undefined],
  ] as readonly (readonly [string, string | undefined])[],
  labels: {
    'sequence-classification': ['label', 'labels', 'score', 'target'],
    'token-classification': ['ner_tags', 'labels', 'tags', 'pos_tags', 'chunk_tags'],
    'question-answering': ['answers'],
  } as Readonly<Record<ClassifierTaskName, readonly string[]>>,
  seq2seqSource: ['document', 'article', 'source', 'input', 'question', 'text', 'sentence', 'content'] as readonly string[],
  seq2seqTarget: ['summary', 'highlights', 'target', 'answer', 'labels', 'label', 'output'] as readonly string[],
  causalText: ['text', 'content', 'document', 'sentence'] as readonly string[],
};
