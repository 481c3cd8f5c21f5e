// Extractive QA as run_qa.py evaluates it (--doc-stride): contexts cut into overflowing windows, the loop over
// features, compute_metrics given the post-processed answers (docs/trainer-semantics.md#question-answering-with-doc-stride).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '../../src/core/evaluate';
import { viewInputFor } from '../../src/core/view/viewModel';
import { SampleTable } from '../../src/core/view/samples';
import { QA_ATTACHMENT, qaRecordFromJson } from '../../src/core/loop/qaFeatures';
import { withDefaults } from '../../src/core/loop/settings';
import { readAttachment } from '../../src/core/cache/reader';
import { metricsForEvaluation } from '../../src/core/metrics/forEvaluation';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { overflowWindows } from '../../src/core/text/encoded';
import { loadTokenizer } from '../../src/core/text';
import { packageRoot } from '../../src/core/paths';
import { Tensor } from '../../src/core/tensor/tensor';
import { VOCAB, qaWorkspace, seqClsWorkspace, tempDir } from '../fixtures/workspace';
import { writeQaModel } from '../fixtures/models';
import { openModel } from '../../src/core/model/session';
import { pythonWith } from '../helpers/python';

test('overflowWindows: the windows of tokenizers 0.22 (huggingface/tokenizers#2091: 50 tokens, max 10, stride 2 give 5 overflowing)', () => {
  const seg = (n: number) => ({ ids: Array.from({ length: n }, (_, i) => i), wordIds: Array(n).fill(0), offsets: Array.from({ length: n }, (_, i) => [i, i + 1] as [number, number]) });
  const right = overflowWindows(seg(50), 10, 2, 'right');
  assert.equal(right.length, 6);
  assert.deepEqual(right.map((w) => [w.ids[0], w.ids[w.ids.length - 1]]), [[0, 9], [8, 17], [16, 25], [24, 33], [32, 41], [40, 49]]);
  const left = overflowWindows(seg(10), 4, 1, 'left');
  assert.deepEqual(left.map((w) => w.ids), [[6, 7, 8, 9], [3, 4, 5, 6], [0, 1, 2, 3]]);
  assert.deepEqual(overflowWindows(seg(5), 5, 2, 'right').map((w) => w.ids.length), [5]); // fits: no overflow
  assert.throws(() => overflowWindows(seg(20), 4, 4, 'right'), /doc stride \(4 tokens\) must be smaller than .* \(4 tokens/);
});

function longContextWorkspace(dir: string) {
  const ws = qaWorkspace(dir, { n: 7 });
  // contexts of 3 sentences each: longer than one 16-token window
  const rows = ws.rows.map((r, i) => {
    const context = [r.context, ws.rows[(i + 1) % ws.rows.length].context, ws.rows[(i + 2) % ws.rows.length].context].join(' ');
    const w = r.answers.text[0];
    return { ...r, context, answers: { text: [w], answer_start: [r.context.lastIndexOf(w)] } };
  });
  fs.writeFileSync(ws.dataset, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { ...ws, rows };
}

test('--doc-stride: features are run_qa windows of the context, the loop runs over them, the cache keeps what the post-processing needs', async () => {
  const dir = tempDir();
  try {
    const ws = longContextWorkspace(dir);
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, maxLength: 16, docStride: 3 });
    const ev = await evaluate(settings, { cwd: dir });
    const record = qaRecordFromJson(readAttachment(ev.cacheDir, QA_ATTACHMENT));
    const F = record.features.length;
    assert.ok(F > ws.rows.length, `${F} features for ${ws.rows.length} examples`);
    assert.equal(ev.loop.numSamples, F); // Trainer's num_samples counts features
    assert.equal(ev.loop.numSteps, Math.ceil(F / 4));
    assert.equal(ev.evalPred.labelIds, null); // run_qa's eval features carry no labels: no eval_loss either
    assert.equal(ev.loop.evalLoss, null);
    const [start, end] = (ev.evalPred.predictions as { tuple: Tensor[] }).tuple;
    assert.deepEqual(start.shape, [F, 16]); // pad_to_max_length (run_qa's default): every feature 16 wide
    assert.deepEqual(end.shape, [F, 16]);
    // Each example's windows, recomputed from the whole context's tokens: budget = 16 - 3 specials - question
    // tokens, each window starting budget - stride after the previous one, the last reaching the end.
    const tok = await loadTokenizer(ws.modelDir);
    for (const [ei, row] of ws.rows.entries()) {
      const whole = tok.encode(row.question.trimStart(), row.context);
      const ctx = whole.offsets.filter((_, k) => whole.sequenceIds[k] === 1);
      const q = whole.sequenceIds.filter((s) => s === 0).length;
      const budget = 16 - 3 - q;
      const mine = record.features.filter((f) => f.exampleId === record.examples[ei].id).map((f) => f.offsets.filter((o) => o !== null));
      const expected: [number, number][][] = [];
      for (let s = 0; ; s += budget - 3) {
        expected.push(ctx.slice(s, s + budget));
        if (s + budget >= ctx.length) break;
      }
      assert.deepEqual(mine, expected, `example ${ei}`);
      assert.equal(record.examples[ei].context, row.context);
      assert.deepEqual(record.examples[ei].answers, row.answers);
    }
    // the prediction view: one row per example (not per feature), with the dataset's question and context, and says so
    const view = await viewInputFor(ev);
    const table = new SampleTable(view);
    assert.equal(table.n, ws.rows.length);
    assert.ok(table.row(0).text.startsWith(ws.rows[0].question), table.row(0).text);
    assert.ok((view.notes ?? []).some((n) => new RegExp(`one row per example: .*doc stride 3, ${F} features`).test(n)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--doc-stride: a Python compute_metrics gets the answers of utils_qa.postprocess_qa_predictions and the references, as QuestionAnsweringTrainer passes them', async () => {
  const dir = tempDir();
  const runners = new MetricRunners({ python: pythonWith(['numpy']) });
  try {
    const ws = longContextWorkspace(dir);
    const metric = path.join(dir, 'metric.py');
    fs.writeFileSync(
      metric,
      [
        'import json',
        'def compute_metrics(p):',
        '    with open(__file__ + ".seen.json", "w") as f:',
        '        json.dump({"predictions": p.predictions, "label_ids": p.label_ids}, f)',
        '    em = sum(x["prediction_text"] == r["answers"]["text"][0] for x, r in zip(p.predictions, p.label_ids))',
        '    return {"n": len(p.predictions), "em": em}',
        '',
      ].join('\n'),
    );
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 3, maxLength: 16, docStride: 2, metrics: metric, nBestSize: 5, maxAnswerLength: 4 });
    const ev = await evaluate(settings, { cwd: dir });
    const out = await metricsForEvaluation(runners, ev, settings);
    const seen = JSON.parse(fs.readFileSync(metric + '.seen.json', 'utf8'));
    assert.equal(out.metrics.eval_n, ws.rows.length);
    // The same post-processing by the NumPy transcription of utils_qa (test/helpers/qa_postprocess_reference.py)
    const record = qaRecordFromJson(readAttachment(ev.cacheDir, QA_ATTACHMENT));
    const [start, end] = (ev.evalPred.predictions as { tuple: Tensor[] }).tuple;
    const rows = (t: Tensor) => Array.from({ length: t.shape[0] }, (_, i) => Array.from((t.data as Float32Array).subarray(i * t.shape[1], (i + 1) * t.shape[1])));
    const ref = JSON.parse(
      execFileSync(pythonWith(['numpy']), [path.join(packageRoot(), 'test', 'helpers', 'qa_postprocess_reference.py')], {
        encoding: 'utf8',
        input: JSON.stringify({
          examples: record.examples,
          features: record.features.map((f) => ({ example_id: f.exampleId, offset_mapping: f.offsets })),
          start_logits: rows(start),
          end_logits: rows(end),
          version_2_with_negative: false,
          n_best_size: 5,
          max_answer_length: 4,
          null_score_diff_threshold: 0,
        }),
      }),
    );
    assert.deepEqual(seen.predictions, ref.predictions);
    assert.deepEqual(seen.label_ids, ref.label_ids);
    assert.equal(out.metrics.eval_em, ref.predictions.filter((p: { prediction_text: string }, i: number) => p.prediction_text === ws.rows[i].answers.text[0]).length);
    assert.equal('eval_loss' in out.metrics, false);
    // no metric file: evaluate's "squad" on the same answers
    const builtin = await metricsForEvaluation(runners, ev, { ...settings, metrics: undefined });
    assert.equal(typeof builtin.metrics.eval_exact_match, 'number');
    assert.equal(typeof builtin.metrics.eval_f1, 'number');
    // the prediction view, one row per example: the post-processed answer against the references, SQuAD EM and F1
    // per question whose means are the squad metric's (divided by 100)
    const table = new SampleTable(await viewInputFor(ev));
    assert.equal(table.n, ws.rows.length);
    const em = table.score('exact_match')!;
    const f1 = table.score('f1')!;
    for (let i = 0; i < table.n; i++) {
      const r = table.row(i);
      assert.equal(r.prediction, ref.predictions[i].prediction_text, `row ${i}`);
      assert.equal(r.label, ws.rows[i].answers.text[0]);
      assert.equal(em[i], r.prediction === ws.rows[i].answers.text[0] ? 1 : 0);
      assert.ok(f1[i] >= em[i] && f1[i] <= 1);
    }
    const mean = (a: Float64Array) => (a.reduce((x, y) => x + y, 0) / a.length) * 100;
    assert.ok(Math.abs(mean(em) - (builtin.metrics.eval_exact_match as number)) < 1e-9);
    assert.ok(Math.abs(mean(f1) - (builtin.metrics.eval_f1 as number)) < 1e-9);
    assert.ok(f1.some((v) => v > 0 && v < 1) || em.some((v) => v === 1), 'the scores are not all zero');
    // a TS metric gets the same post-processed lists, as plain arrays of objects; editing them changes no later run
    const tsMetric = path.join(dir, 'metric.ts');
    fs.writeFileSync(
      tsMetric,
      [
        "import fs from 'node:fs';",
        'export function computeMetrics(p: any) {',
        `  fs.writeFileSync(${JSON.stringify(tsMetric + '.seen.json')}, JSON.stringify({ predictions: p.predictions, label_ids: p.label_ids, n: [...p].length }));`,
        '  const em = p.predictions.filter((x: any, i: number) => x.prediction_text === p.labelIds[i].answers.text[0]).length;',
        "  p.predictions.length = 0; // a metric that empties the list must not change the next run's",
        '  return { n: p.labelIds.length, em };',
        '}',
        '',
      ].join('\n'),
    );
    for (let run = 0; run < 2; run++) {
      const ts = await metricsForEvaluation(runners, ev, { ...settings, metrics: tsMetric });
      const tsSeen = JSON.parse(fs.readFileSync(tsMetric + '.seen.json', 'utf8'));
      assert.deepEqual(tsSeen.predictions, ref.predictions, `run ${run}`);
      assert.deepEqual(tsSeen.label_ids, ref.label_ids);
      assert.equal(tsSeen.n, 2); // [...evalPred] yields predictions and label_ids, as EvalPrediction does
      assert.equal(ts.metrics.eval_n, ws.rows.length);
      assert.equal(ts.metrics.eval_em, out.metrics.eval_em);
    }
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--doc-stride on a model that is not extractive QA, and a stride as wide as the window, are errors naming the setting', async () => {
  const dir = tempDir();
  try {
    const ws = longContextWorkspace(dir);
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset, maxLength: 16, docStride: 12 }), { cwd: dir }), /doc stride \(12 tokens\) must be smaller/);
    const cls = seqClsWorkspace(path.join(dir, 'cls'), { n: 4 });
    await assert.rejects(evaluate(withDefaults({ model: cls.modelDir, dataset: cls.dataset, docStride: 8 }), { cwd: dir }), /docStride \(--doc-stride\) is run_qa\.py's windowing .* sequence-classification model/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// label_names (docs/trainer-semantics.md#which-batch-keys-are-labels): with --doc-stride the features get run_qa's
// prepare_train_features labels; label_ids holds them in label_names order; the loss is the model's either way.
test('--label-names with --doc-stride: features labelled as prepare_train_features does, label_ids and eval_loss as Trainer builds them (test/helpers/label_names_reference.py)', async () => {
  const dir = tempDir();
  try {
    const ws = longContextWorkspace(dir);
    // two more rows: the answer is the context's last token (run_qa's start scan then runs on through [SEP] and the
    // padding) and a question with no answer (CLS, CLS)
    const last = ws.rows[0].context + ' the';
    const rows = [
      ...ws.rows,
      { ...ws.rows[1], id: 'last', context: last, answers: { text: ['the'], answer_start: [last.length - 3] } },
      { ...ws.rows[2], id: 'none', answers: { text: [], answer_start: [] } },
    ];
    fs.writeFileSync(ws.dataset, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const tok = await loadTokenizer(ws.modelDir);
    const base = { model: ws.modelDir, dataset: ws.dataset, batchSize: 4, maxLength: 16, docStride: 3 };
    const both = await evaluate(withDefaults({ ...base, labelNames: ['start_positions', 'end_positions'] }), { cwd: dir });
    const endOnly = await evaluate(withDefaults({ ...base, labelNames: ['end_positions'] }), { cwd: dir });
    // The features as the tokenizer returns them with padding="max_length" (right padding: pad id, (0, 0), None)
    const features: { input_ids: number[]; offset_mapping: [number, number][]; sequence_ids: (number | null)[]; example: number }[] = [];
    rows.forEach((r, example) => {
      for (const enc of tok.encodeOverflowing(r.question.trimStart(), r.context, { maxLength: 16, stride: 3, truncation: 'only_second' })) {
        const pad = 16 - enc.ids.length;
        features.push({
          input_ids: [...enc.ids, ...Array(pad).fill(tok.padTokenId)],
          offset_mapping: [...enc.offsets, ...Array(pad).fill([0, 0])],
          sequence_ids: [...enc.sequenceIds, ...Array(pad).fill(null)],
          example,
        });
      }
    });
    const [start, end] = (both.evalPred.predictions as { tuple: Tensor[] }).tuple;
    const rowsOf = (t: Tensor) => Array.from({ length: t.shape[0] }, (_, i) => Array.from((t.data as Float32Array).subarray(i * t.shape[1], (i + 1) * t.shape[1])));
    const reference = (labelNames: string[]) =>
      JSON.parse(
        execFileSync(pythonWith(['numpy']), [path.join(packageRoot(), 'test', 'helpers', 'label_names_reference.py')], {
          encoding: 'utf8',
          input: JSON.stringify({ features, examples: rows, cls_token_id: tok.specialTokenId('cls_token'), label_names: labelNames, batch_size: 4, start_logits: rowsOf(start), end_logits: rowsOf(end) }),
        }),
      );
    const refBoth = reference(['start_positions', 'end_positions']);
    assert.equal(refBoth.tuple, true);
    const [sp, ep] = (both.evalPred.labelIds as { tuple: Tensor[] }).tuple;
    assert.equal(sp.dtype, 'int64');
    assert.deepEqual([Array.from(sp.data, Number), Array.from(ep.data, Number)], refBoth.label_ids);
    // the edge case and the unanswerable question are both in there
    assert.ok(refBoth.label_ids[0].includes(15), 'a start scanned on to the last padded position');
    assert.ok(refBoth.label_ids[0].some((s: number, i: number) => s === 0 && refBoth.label_ids[1][i] === 0), 'a (CLS, CLS) feature');
    assert.ok(Math.abs(both.loop.evalLoss! - refBoth.eval_loss) < 1e-6, `eval_loss ${both.loop.evalLoss} vs ${refBoth.eval_loss}`);
    const refEnd = reference(['end_positions']);
    assert.equal(refEnd.tuple, false);
    assert.ok(endOnly.evalPred.labelIds instanceof Tensor, 'one label name: label_ids is the array itself');
    assert.deepEqual(Array.from((endOnly.evalPred.labelIds as Tensor).data, Number), refEnd.label_ids);
    assert.equal(endOnly.loop.evalLoss, both.loop.evalLoss); // the model's loss does not read label_names
    // QuestionAnsweringTrainer's dictionary: the post-processed metrics, then the loop's eval_loss, then speed
    const runners = new MetricRunners({ python: pythonWith(['numpy']) });
    try {
      const metric = path.join(dir, 'qa_metric.py');
      fs.writeFileSync(metric, 'def compute_metrics(p):\n    return {"exact_match": 1.0, "loss": 99.0, "f1": 2.0}\n');
      const m = await metricsForEvaluation(runners, both, withDefaults({ ...base, labelNames: ['start_positions', 'end_positions'], metrics: metric }));
      // the prefix loop pops and re-appends in order (loss -> eval_loss in place), then the loop's value overwrites it
      assert.deepEqual(Object.keys(m.metrics).slice(0, 4), ['eval_exact_match', 'eval_loss', 'eval_f1', 'eval_runtime']);
      assert.equal(m.metrics.eval_loss, both.loop.evalLoss); // trainer_qa updates with the loop's metrics last
    } finally {
      await runners.close();
    }
    assert.deepEqual(endOnly.loop.info.labelNames, ['end_positions']);
    // without label_names run_qa's evaluation features carry no labels
    const plain = await evaluate(withDefaults(base), { cwd: dir });
    assert.equal(plain.evalPred.labelIds, null);
    assert.equal(plain.loop.evalLoss, null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--label-names without a doc stride: label_ids in label_names order for both metric runners and the view; a name the batch lacks is an error naming its keys', async () => {
  const dir = tempDir();
  const runners = new MetricRunners({ python: pythonWith(['numpy']) });
  try {
    const ws = qaWorkspace(dir, { n: 6 });
    const base = { model: ws.modelDir, dataset: ws.dataset, batchSize: 4, maxLength: 16, includeForMetrics: ['inputs' as const] };
    const dflt = await evaluate(withDefaults(base), { cwd: dir });
    const [s0, e0] = (dflt.evalPred.labelIds as { tuple: Tensor[] }).tuple;
    const swapped = await evaluate(withDefaults({ ...base, labelNames: ['end_positions', 'start_positions'] }), { cwd: dir });
    const [a, b] = (swapped.evalPred.labelIds as { tuple: Tensor[] }).tuple;
    assert.deepEqual([Array.from(a.data, Number), Array.from(b.data, Number)], [Array.from(e0.data, Number), Array.from(s0.data, Number)]);
    assert.equal(swapped.loop.evalLoss, dflt.loop.evalLoss);
    const py = path.join(dir, 'metric.py');
    fs.writeFileSync(py, 'def compute_metrics(p):\n    e, s = p.label_ids\n    return {"n": len(p.label_ids), "end0": int(e[0]), "start0": int(s[0])}\n');
    const ts = path.join(dir, 'metric.ts');
    fs.writeFileSync(ts, 'export function computeMetrics(p: any) { const [e, s] = p.labelIds; return { n: p.labelIds.length, end0: Number(e.at(0)), start0: Number(s.at(0)) }; }\n');
    const settings = withDefaults({ ...base, labelNames: ['end_positions', 'start_positions'] });
    for (const metrics of [py, ts]) {
      const out = await metricsForEvaluation(runners, swapped, { ...settings, metrics });
      assert.deepEqual([out.metrics.eval_n, out.metrics.eval_end0, out.metrics.eval_start0], [2, Number(e0.at(0)), Number(s0.at(0))], path.basename(metrics));
    }
    // the view reads the gold span by name, so the swapped order shows the same rows
    const rowsOf = async (ev: typeof dflt) => {
      const table = new SampleTable(await viewInputFor(ev));
      return Array.from({ length: table.n }, (_, i) => {
        const r = table.row(i);
        return [r.prediction, r.label, r.correct, r.loss, table.goldId[i]];
      });
    };
    const shown = await rowsOf(dflt);
    assert.ok(shown.every((r) => typeof r[3] === 'number' && (r[4] as number) >= 0), 'gold positions and per-row losses are shown');
    assert.deepEqual(await rowsOf(swapped), shown);
    await assert.rejects(evaluate(withDefaults({ ...base, labelNames: ['labels'] }), { cwd: dir }), /--label-names labels: "labels" is not a label key of the question-answering batch \(its label keys: start_positions, end_positions\)/);
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--doc-stride with a tokenizer that returns no token_type_ids (transformers 5): the features feed the model zeros, as every other batch does', async () => {
  const dir = tempDir();
  try {
    const ws = longContextWorkspace(dir);
    writeQaModel(ws.modelDir, { vocabSize: VOCAB.length, hidden: 8, tokenTypeIds: true }); // a model that reads them
    const base = { dataset: ws.dataset, batchSize: 4, maxLength: 16, docStride: 3 };
    const withTypes = await evaluate(withDefaults({ ...base, model: ws.modelDir }), { cwd: dir });
    const cfgFile = path.join(ws.modelDir, 'tokenizer_config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    delete cfg.model_input_names;
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, tokenizer_class: 'TokenizersBackend' }));
    const zeros = await evaluate(withDefaults({ ...base, model: ws.modelDir }), { cwd: dir });
    const startOf = (ev: typeof zeros) => (ev.evalPred.predictions as { tuple: Tensor[] }).tuple[0];
    assert.notDeepEqual(Array.from(startOf(zeros).data as Float32Array), Array.from(startOf(withTypes).data as Float32Array));
    // the first feature run by hand with all-zero token_type_ids gives the cached start logits
    const tok = await loadTokenizer(ws.modelDir);
    const enc = tok.encodeOverflowing(ws.rows[0].question, ws.rows[0].context, { maxLength: 16, stride: 3, truncation: 'only_second' })[0];
    const pad = (v: number[], p: number) => [...v, ...Array(16 - v.length).fill(p)];
    const session = await openModel(ws.modelDir);
    try {
      const out = await session.run({
        input_ids: Tensor.from('int64', [1, 16], pad(enc.ids, tok.padTokenId)),
        attention_mask: Tensor.from('int64', [1, 16], pad(enc.attentionMask, 0)),
        token_type_ids: Tensor.from('int64', [1, 16], Array(16).fill(0)),
      });
      const cached = Array.from((startOf(zeros).data as Float32Array).subarray(0, 16));
      Array.from(out.start_logits.data as Float32Array).forEach((v, k) => assert.ok(Math.abs(v - cached[k]) < 1e-6, `position ${k}`));
    } finally {
      await session.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
