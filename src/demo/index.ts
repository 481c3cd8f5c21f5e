// The built-in demo: a small sentiment model (BertForSequenceClassification-shaped ONNX graph), its
// tokenizer and a validation set, all generated from code on each build: no download, same bytes every time.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from './prng';
import { Review, reviewWords, reviews } from './reviews';
import { SPECIAL_TOKENS, wordPieceTokenizerJson } from './tokenizerJson';
import { bertConfigJson, tinyModelOnnx } from './tinyModels';
import { trainMeanPoolClassifier, wordPieceIds } from './train';

export const DEMO_LABELS = ['negative', 'positive'];
export const DEMO_VALIDATION_ROWS = 200;
const TRAIN_ROWS = 1000;
const TRAIN_SEED = 20240601;
const VALIDATION_SEED = 7;
const WEIGHT_SEED = 42;
const HIDDEN = 8;

export const DEMO_VOCAB: readonly string[] = [...SPECIAL_TOKENS, ...reviewWords()];

/** Rows of the demo's validation.jsonl (columns `sentence`, `label`). */
export function demoValidationRows(): Review[] {
  return reviews(mulberry32(VALIDATION_SEED), DEMO_VALIDATION_ROWS);
}

/** The demo's model folder and dataset as file contents, keyed by path relative to the demo folder. */
export function demoModelFiles(): Map<string, Uint8Array | string> {
  const vocab = new Map(DEMO_VOCAB.map((w, i) => [w, i]));
  const train = reviews(mulberry32(TRAIN_SEED), TRAIN_ROWS).map((r) => ({ ids: wordPieceIds(r.sentence, vocab), label: r.label }));
  const weights = trainMeanPoolClassifier(mulberry32(WEIGHT_SEED), train, { vocabSize: DEMO_VOCAB.length, hidden: HIDDEN, epochs: 200, learningRate: 0.05, l2: 1e-4 });
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson([...DEMO_VOCAB], { lowercase: true, modelMaxLength: 128 });
  return new Map<string, Uint8Array | string>([
    [path.join('model', 'model.onnx'), tinyModelOnnx(weights)],
    [
      path.join('model', 'config.json'),
      bertConfigJson({ architecture: 'BertForSequenceClassification', vocabSize: DEMO_VOCAB.length, hidden: HIDDEN, labels: DEMO_LABELS, problemType: 'single_label_classification' }),
    ],
    [path.join('model', 'tokenizer.json'), JSON.stringify(tokenizer, null, 2) + '\n'],
    [path.join('model', 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n'],
    ['validation.jsonl', demoValidationRows().map((r) => JSON.stringify({ sentence: r.sentence, label: r.label })).join('\n') + '\n'],
  ]);
}

/** Write the demo model folder and dataset under `dir` (created if needed); returns their paths. */
export function buildDemo(dir: string): { modelDir: string; datasetFile: string } {
  for (const [rel, body] of demoModelFiles()) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  }
  return { modelDir: path.join(dir, 'model'), datasetFile: path.join(dir, 'validation.jsonl') };
}
