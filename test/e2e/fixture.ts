// The e2e workspace: a tiny sequence-classification model folder + dataset (test/fixtures/workspace.ts) and
// a Python metric file whose `marker = 1.0` line the test edits in the editor.
import fs from 'node:fs';
import path from 'node:path';
import { GEN_WORDS, writeSeq2SeqModel } from '../fixtures/generative';
import { seqClsWorkspace } from '../fixtures/workspace';
import { FIXED_METRIC, captureSeries } from '../fixtures/series';

export const METRIC_SOURCE = `import numpy as np


def compute_metrics(eval_pred):
    predictions, labels = eval_pred
    preds = np.argmax(predictions, axis=-1)
    accuracy = float((preds == labels).mean())
    marker = 1.0
    return {"accuracy": accuracy, "marker": marker}
`;
/** 1-based line of `marker = 1.0` in METRIC_SOURCE. */
export const MARKER_LINE = METRIC_SOURCE.split('\n').findIndex((l) => l.includes('marker = 1.0')) + 1;

export function makeWorkspace(dir: string): { modelDir: string; dataset: string; metrics: string; texts: string[] } {
  const { modelDir, dataset, texts } = seqClsWorkspace(dir, { n: 12, numLabels: 3 });
  const metrics = path.join(dir, 'metrics.py');
  fs.writeFileSync(metrics, METRIC_SOURCE);
  fs.writeFileSync(path.join(dir, 'README.md'), '# evalpred e2e workspace\n');
  return { modelDir, dataset, metrics, texts };
}

/** A compute_metrics in a notebook cell: it uses `np` imported two cells above (README "Notebooks"). */
export const NOTEBOOK_METRIC = [
  'def compute_metrics(eval_pred):',
  '    predictions, labels = eval_pred',
  '    return {"nb_accuracy": float((np.argmax(predictions, axis=-1) == labels).mean()), "nb_marker": 7.0}',
];

/** analysis.ipynb: a markdown cell, an import cell, a cell that would train (never run by evalpred), the metric cell. */
export function writeNotebook(dir: string): string {
  const code = (lines: string[]) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: lines.map((l, i) => (i < lines.length - 1 ? l + '\n' : l)) });
  const nb = {
    cells: [
      { cell_type: 'markdown', metadata: {}, source: ['# Metric notebook'] },
      code(['import numpy as np']),
      code(['raise SystemExit("training cell: evalpred executes only the imports and the metric cell")']),
      code(NOTEBOOK_METRIC),
    ],
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const file = path.join(dir, 'analysis.ipynb');
  fs.writeFileSync(file, JSON.stringify(nb, null, 1) + '\n');
  return file;
}

// Issue 10's second scenario and issue 11's palette flow: a T5-shaped seq2seq export (three files) evaluated
// with predict_with_generate, and a Python compute_metrics(eval_preds) that decodes with evalpred's
// load_tokenizer (no transformers needed). No launch.json: the palette's quick picks set it up.
export const SEQ2SEQ_METRIC = `import os

import numpy as np
from evalpred import load_tokenizer

tokenizer = load_tokenizer(os.path.join(os.path.dirname(__file__), "t5"))


def compute_metrics(eval_preds):
    preds, labels = eval_preds.predictions, eval_preds.label_ids
    labels = np.where(labels != -100, labels, tokenizer.pad_token_id)
    decoded_preds = tokenizer.batch_decode(preds, skip_special_tokens=True)
    decoded_labels = tokenizer.batch_decode(labels, skip_special_tokens=True)
    exact = float(np.mean([p.strip() == l.strip() for p, l in zip(decoded_preds, decoded_labels)]))
    marker = 1.0
    return {"exact_match": exact, "marker": marker}
`;
/**
 * 1-based lines of SEQ2SEQ_METRIC: the breakpoint (decoded_labels = ..., so that Step Over goes to the next line:
 * the line after it holds a list comprehension, whose own frame Python 3.11 steps into) and the edited marker.
 */
export const SEQ2SEQ_BP_LINE = SEQ2SEQ_METRIC.split('\n').findIndex((l) => l.includes('decoded_labels = ')) + 1;
export const SEQ2SEQ_MARKER_LINE = SEQ2SEQ_METRIC.split('\n').findIndex((l) => l.includes('marker = 1.0')) + 1;

export function makeSeq2SeqWorkspace(dir: string): { modelDir: string; dataset: string; metrics: string; questions: string[]; answers: string[] } {
  const modelDir = path.join(dir, 't5');
  writeSeq2SeqModel(modelDir, 'three-file', { seed: 4, eosSlope: 1.0, eosFrom: 4 });
  const words = (i: number, n: number) => Array.from({ length: n }, (_, k) => GEN_WORDS[(i * 7 + k * 5) % GEN_WORDS.length]).join(' ');
  const questions = Array.from({ length: 8 }, (_, i) => `what is ${words(i, 1 + (i % 4))}`);
  const answers = Array.from({ length: 8 }, (_, i) => words(i + 3, 1 + (i % 2)));
  const dataset = path.join(dir, 'qa.jsonl');
  fs.writeFileSync(dataset, questions.map((q, i) => JSON.stringify({ question: q, answer: answers[i] })).join('\n') + '\n');
  const metrics = path.join(dir, 'metrics.py');
  fs.writeFileSync(metrics, SEQ2SEQ_METRIC);
  return { modelDir, dataset, metrics, questions, answers };
}

/** 1-based line of the fixed metric's `return`, which the test edits (error_rate: 1 - accuracy / 2). */
export const FIXED_RETURN_LINE = FIXED_METRIC.split('\n').findIndex((l) => l.includes('return {')) + 1;

/** A training series captured by the Python helper (test/fixtures/series.ts) and the fixed metric that recomputes it. */
export function makeSeries(ws: string, root: string, python: string): { seriesDir: string; fixedMetric: string } {
  const seriesDir = captureSeries(path.join(ws, 'runs', 'series'), { python, root });
  const fixedMetric = path.join(ws, 'fixed_metrics.py');
  fs.writeFileSync(fixedMetric, FIXED_METRIC);
  return { seriesDir, fixedMetric };
}
