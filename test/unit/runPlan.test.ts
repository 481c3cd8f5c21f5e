import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetFileVerdict, detectFolderTask, prefill } from '../../src/extension/runPlan';

function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-plan-'));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}
const cfg = (arch?: string) => JSON.stringify(arch ? { architectures: [arch] } : { model_type: 'bert' });

test('task detection: config.json architectures for model.onnx, the optimum layout for seq2seq exports', () => {
  const cases: [Record<string, string>, string | null, string][] = [
    [{ 'model.onnx': '', 'config.json': cfg('BertForSequenceClassification') }, 'sequence-classification', 'single'],
    [{ 'model.onnx': '', 'config.json': cfg('RobertaForTokenClassification') }, 'token-classification', 'single'],
    [{ 'model.onnx': '', 'config.json': cfg('DistilBertForQuestionAnswering') }, 'question-answering', 'single'],
    [{ 'model.onnx': '', 'config.json': cfg('GPT2LMHeadModel') }, 'causal-lm', 'single'],
    [{ 'model.onnx': '', 'config.json': cfg('LlamaForCausalLM') }, 'causal-lm', 'single'],
    [{ 'model.onnx': '', 'config.json': cfg() }, null, 'single'], // no architectures: the run reads the ONNX outputs
    [{ 'encoder_model.onnx': '', 'decoder_model.onnx': '', 'config.json': cfg('T5ForConditionalGeneration') }, 'seq2seq-lm', 'seq2seq'],
    [{ 'encoder_model.onnx': '', 'decoder_model.onnx': '', 'decoder_with_past_model.onnx': '', 'config.json': cfg('T5ForConditionalGeneration') }, 'seq2seq-lm', 'seq2seq-with-past'],
    [{ 'encoder_model.onnx': '', 'decoder_model_merged.onnx': '' }, 'seq2seq-lm', 'seq2seq-merged'],
  ];
  for (const [files, task, layout] of cases) {
    const dir = folder(files);
    try {
      const d = detectFolderTask(dir);
      assert.ok(d, Object.keys(files).join());
      assert.equal(d.task, task, Object.values(files).join());
      assert.equal(d.layout, layout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  // an encoder alone, or no ONNX file: not a model folder
  for (const files of [{ 'encoder_model.onnx': '' }, { 'config.json': cfg('BertForSequenceClassification') }] as Record<string, string>[]) {
    const dir = folder(files);
    assert.equal(detectFolderTask(dir), null);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('dataset files are judged by content: logs, trainer state and configs are skipped, whatever their extension', () => {
  const dir = folder({
    'training_log.json': JSON.stringify([{ loss: 1.2, learning_rate: 5e-5, epoch: 1, step: 10 }, { loss: 0.9, epoch: 2, step: 20 }]),
    'trainer_state.json': JSON.stringify({ best_metric: 0.9, log_history: [{ loss: 1 }], global_step: 30 }),
    'config.json': JSON.stringify({ architectures: ['T5ForConditionalGeneration'], d_model: 512 }),
    'metrics.jsonl': '{"epoch": 1, "eval_loss": 0.5}\n',
    'squad.jsonl': '{"id": "a", "question": "Who?", "context": "Ann did.", "answers": {"text": ["Ann"], "answer_start": [0]}}\n',
    'rows.json': JSON.stringify([{ sentence: 'good', label: 1 }]),
    'columns.json': JSON.stringify({ text: ['a', 'b'], label: [0, 1] }),
    'conll.json': JSON.stringify([{ tokens: ['EU', 'rejects'], ner_tags: [3, 0] }]),
    'val.csv': 'premise,hypothesis,label\nA man,A person,0\n',
    'broken.json': '{"a": [1,',
  });
  try {
    const v = (f: string) => datasetFileVerdict(path.join(dir, f));
    for (const f of ['training_log.json', 'trainer_state.json', 'config.json', 'metrics.jsonl', 'broken.json']) assert.equal(v(f).ok, false, f);
    assert.match((v('training_log.json') as { why: string }).why, /no text/);
    for (const f of ['squad.jsonl', 'rows.json', 'columns.json', 'conll.json', 'val.csv']) assert.equal(v(f).ok, true, f);
    assert.deepEqual((v('squad.jsonl') as { columns: string[] }).columns, ['id', 'question', 'context', 'answers']);
    assert.deepEqual((v('val.csv') as { columns: string[] }).columns, ['premise', 'hypothesis', 'label']);
    assert.deepEqual((v('columns.json') as { columns: string[] }).columns, ['text', 'label']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pre-fill from the dataset columns, per task, with the Trainer defaults', () => {
  const squadRow = { id: 'a', question: 'Who?', context: 'Ann did.', answers: { text: ['Ann'], answer_start: [0] } };
  const squad = Object.keys(squadRow);
  // T5 on SQuAD: the usual template, the answer text as target, generated predictions (Seq2SeqTrainer predict_with_generate)
  assert.deepEqual(prefill('seq2seq-lm', squad, squadRow), { textTemplate: 'question: {question} context: {context}', labelColumn: 'answers.text[0]', predictWithGenerate: true });
  assert.deepEqual(prefill('seq2seq-lm', ['id', 'document', 'summary']), { textColumn: 'document', labelColumn: 'summary', predictWithGenerate: true });
  assert.deepEqual(prefill('question-answering', squad, squadRow), { textColumn: 'question', textPairColumn: 'context', labelColumn: 'answers' });
  assert.deepEqual(prefill('sequence-classification', ['premise', 'hypothesis', 'label']), { textColumn: 'premise', textPairColumn: 'hypothesis', labelColumn: 'label' });
  assert.deepEqual(prefill('sequence-classification', ['text', 'stars']), { textColumn: 'text', labelColumn: undefined });
  assert.deepEqual(prefill('token-classification', ['tokens', 'ner_tags']), { textColumn: 'tokens', labelColumn: 'ner_tags' });
  // run_clm evaluates a causal LM by teacher forcing
  assert.deepEqual(prefill('causal-lm', ['text']), { textColumn: 'text', predictWithGenerate: false });
});
