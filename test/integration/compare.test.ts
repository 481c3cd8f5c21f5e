// `evalpred compare CACHE_A CACHE_B` as a user types it: two fixture models (different weights) evaluated on the
// same dataset. The samples that changed are known from NumPy reading the two caches (argmax vs labels).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { distFile } from '../../src/core/paths';
import { runPython } from '../helpers/python';
import { GEN_VOCAB, GEN_WORDS, writeSeq2SeqModel } from '../fixtures/generative';
import { seqClsWorkspace, tempDir, writeJsonl } from '../fixtures/workspace';

const N = 24;

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd, encoding: 'utf8' });
}

function run(cwd: string, model: string, dataset: string, out: string, extra: string[] = []): void {
  const r = cli(cwd, ['run', '--model', model, '--dataset', dataset, '--out', out, ...extra]);
  assert.equal(r.status, 0, r.stderr);
}

test('compare: metrics of each with the difference, fixed and broken samples, the changed samples as JSONL; refusals', () => {
  const dir = tempDir();
  try {
    const a = seqClsWorkspace(path.join(dir, 'a'), { n: N, numLabels: 3, seed: 1 });
    const b = seqClsWorkspace(path.join(dir, 'b'), { n: N, numLabels: 3, seed: 7 }); // same rows, other weights
    run(dir, a.modelDir, a.dataset, 'cacheA');
    run(dir, b.modelDir, a.dataset, 'cacheB');
    const truth = JSON.parse(
      runPython(
        `import json, numpy as np\n` +
          `pa=np.load('cacheA/predictions.npy').argmax(-1); pb=np.load('cacheB/predictions.npy').argmax(-1); y=np.load('cacheA/label_ids.npy')\n` +
          `ra=pa==y; rb=pb==y\n` +
          `print(json.dumps({'fixed': np.where(~ra & rb)[0].tolist(), 'broken': np.where(ra & ~rb)[0].tolist(), 'acc_a': float(ra.mean()), 'acc_b': float(rb.mean()), 'pa': pa.tolist(), 'pb': pb.tolist(), 'y': y.tolist()}))`,
        ['numpy'],
        dir,
      ),
    );
    assert.ok(truth.fixed.length + truth.broken.length > 0, 'the two fixture models disagree on some samples');
    const names = JSON.parse(fs.readFileSync(path.join(a.modelDir, 'config.json'), 'utf8')).id2label as Record<string, string>;

    // The built-in metrics of the task (accuracy for sequence classification), and the changed samples.
    const r = cli(dir, ['compare', 'cacheA', 'cacheB', '--out', 'changed.jsonl']);
    assert.equal(r.status, 0, r.stderr);
    const line = (key: string) => r.stdout.split('\n').find((l) => l.startsWith(key + ' '));
    const acc = line('eval_accuracy');
    assert.ok(acc, r.stdout);
    const [, va, vb, d] = acc.trim().split(/\s+/);
    assert.ok(Math.abs(Number(va) - truth.acc_a) < 1e-6 && Math.abs(Number(vb) - truth.acc_b) < 1e-6, acc);
    assert.ok(Math.abs(Number(d) - (truth.acc_b - truth.acc_a)) < 1e-3, acc);
    assert.ok(line('eval_runtime'), 'each cache\'s run speed is listed too');
    const list = (xs: number[]) => (xs.length ? `  ${xs.map((i) => `#${i}`).join(' ')}` : '');
    assert.ok(r.stdout.includes(`fixed (wrong in A, right in B): ${truth.fixed.length}${list(truth.fixed)}`), r.stdout);
    assert.ok(r.stdout.includes(`broken (right in A, wrong in B): ${truth.broken.length}${list(truth.broken)}`), r.stdout);
    assert.match(r.stdout, new RegExp(`correct: A ${Math.round(truth.acc_a * N)}/${N}, B ${Math.round(truth.acc_b * N)}/${N}`));

    const rows = fs.readFileSync(path.join(dir, 'changed.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const expectedIdx = [...truth.fixed, ...truth.broken].sort((x: number, y: number) => x - y);
    assert.deepEqual(rows.map((x) => x.index), expectedIdx);
    for (const row of rows) {
      const i = row.index;
      assert.equal(row.change, truth.fixed.includes(i) ? 'fixed' : 'broken');
      assert.equal(row.text, a.texts[i]);
      assert.equal(row.label, names[String(truth.y[i])]);
      assert.equal(row.prediction_a, names[String(truth.pa[i])]);
      assert.equal(row.prediction_b, names[String(truth.pb[i])]);
      assert.equal(row.correct_b, row.change === 'fixed');
    }

    // --metrics FILE runs on both; --json gives the same numbers.
    const metricFile = path.join(dir, 'm.js');
    fs.writeFileSync(metricFile, 'exports.computeMetrics = ({ predictions, labelIds }) => { const p = predictions.argmax(-1); let n = 0; for (let i = 0; i < labelIds.shape[0]; i++) if (Number(p.get(i)) === Number(labelIds.get(i))) n++; return { right: n }; };\n');
    const j = cli(dir, ['compare', 'cacheA', 'cacheB', '--metrics', metricFile, '--json']);
    assert.equal(j.status, 0, j.stderr);
    const cmp = JSON.parse(j.stdout);
    const right = cmp.metrics.find((m: { key: string }) => m.key === 'eval_right');
    assert.deepEqual([right.a, right.b, right.delta], [Math.round(truth.acc_a * N), Math.round(truth.acc_b * N), Math.round(truth.acc_b * N) - Math.round(truth.acc_a * N)]);

    // --out: evalpred rewrites its own file, never one it did not write.
    assert.equal(cli(dir, ['compare', 'cacheA', 'cacheB', '--out', 'changed.jsonl']).status, 0);
    fs.writeFileSync(path.join(dir, 'notes.jsonl'), '{"mine": true}\n');
    const foreign = cli(dir, ['compare', 'cacheA', 'cacheB', '--out', 'notes.jsonl']);
    assert.equal(foreign.status, 2);
    assert.match(foreign.stderr, /--out notes\.jsonl exists and was not written by evalpred compare/);
    assert.equal(fs.readFileSync(path.join(dir, 'notes.jsonl'), 'utf8'), '{"mine": true}\n');

    // Different datasets (same size, other labels) and different sample counts are refused with the reason.
    const other = writeJsonl(path.join(dir, 'other.jsonl'), a.texts.map((t, i) => ({ sentence: t, label: (i + 1) % 3 })));
    run(dir, b.modelDir, other, 'cacheOther');
    const diff = cli(dir, ['compare', 'cacheA', 'cacheOther']);
    assert.equal(diff.status, 2);
    assert.match(diff.stderr, /cannot compare cacheA with cacheOther: they evaluated different datasets/);
    run(dir, b.modelDir, a.dataset, 'cacheFew', ['--max-samples', '10']);
    const few = cli(dir, ['compare', 'cacheA', 'cacheFew']);
    assert.equal(few.status, 2);
    assert.match(few.stderr, /cannot compare cacheA \(24 samples\) with cacheFew \(10 samples\)/);
    const missing = cli(dir, ['compare', 'cacheA', 'nope']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /CACHE_B nope is not a prediction cache/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('compare on seq2seq generations: changed samples by exact match of the decoded texts (NumPy decode as the reference)', () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 't5');
    writeSeq2SeqModel(modelDir, 'merged', { seed: 4, eosSlope: 1.0, eosFrom: 4 });
    let s = 5;
    const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const words = (n: number) => Array.from({ length: n }, () => GEN_WORDS[Math.floor(rnd() * GEN_WORDS.length)]).join(' ');
    const questions = Array.from({ length: 10 }, (_, i) => words(1 + (i % 4)));
    const answers = questions.map((q, i) => (i % 2 ? 'cat cat cat' : q.split(' ')[0]));
    const dataset = writeJsonl(path.join(dir, 'qa.jsonl'), questions.map((q, i) => ({ question: q, answer: answers[i] })));
    const common = ['--predict-with-generate', '--text-column', 'question', '--label-column', 'answer', '--batch-size', '4'];
    run(dir, modelDir, dataset, 'short', [...common, '--max-new-tokens', '3']);
    run(dir, modelDir, dataset, 'long', [...common, '--max-new-tokens', '6']);
    const truth = JSON.parse(
      runPython(
        `import json, numpy as np\n` +
          `vocab=${JSON.stringify(GEN_VOCAB)}\n` +
          `text=lambda r: ' '.join(w for w in (vocab[i] for i in r if i >= 5) if w not in ('a', 'the'))\n` +
          `def right(c):\n  p=np.load(c+'/predictions.npy'); l=np.load(c+'/label_ids.npy')\n  return [text(a)==text(b) for a,b in zip(p,l)]\n` +
          `ra=right('short'); rb=right('long')\n` +
          `print(json.dumps({'fixed': [i for i in range(len(ra)) if not ra[i] and rb[i]], 'broken': [i for i in range(len(ra)) if ra[i] and not rb[i]], 'a': sum(ra), 'b': sum(rb)}))`,
        ['numpy'],
        dir,
      ),
    );
    const r = cli(dir, ['compare', 'short', 'long', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.equal(c.task, 'seq2seq-lm');
    assert.deepEqual(c.correct, { a: truth.a, b: truth.b, known: 10 });
    assert.deepEqual(c.changed.filter((x: { change: string }) => x.change === 'fixed').map((x: { index: number }) => x.index), truth.fixed);
    assert.deepEqual(c.changed.filter((x: { change: string }) => x.change === 'broken').map((x: { index: number }) => x.index), truth.broken);
    assert.ok(truth.a + truth.b > 0, 'some generations match their targets');
    assert.ok(c.metrics.some((m: { key: string; delta?: number }) => m.key === 'eval_gen_len' && m.delta! > 0), 'longer generations: eval_gen_len grows');
    for (const x of c.changed) assert.equal(typeof x.prediction_a, 'string');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
