// `evalpred run` without --metrics on the tiny generative models: the built-in metrics (checked against NumPy /
// a plain-Python ROUGE on the cache the run wrote) and the generation lints on stderr and in `inspect --json`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { distFile } from '../../src/core/paths';
import { runPython } from '../helpers/python';
import { GEN_VOCAB, GEN_WORDS, writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';
import { tempDir, writeJsonl } from '../fixtures/workspace';

function texts(n: number, seed: number, maxWords = 6): string[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: n }, (_, i) => Array.from({ length: 1 + ((i * 5 + Math.floor(rnd() * maxWords)) % maxWords) }, () => GEN_WORDS[Math.floor(rnd() * GEN_WORDS.length)]).join(' '));
}

// run_summarization's compute_metrics written out in plain Python + NumPy: ids -> words (specials 0..4 and -100
// dropped, as decode(skip_special_tokens=True) after -100 -> pad), rouge_score's tokenizer and F-measures, x 100.
const SUMMARIZATION_REFERENCE = String.raw`
import numpy as np, re, json, sys, collections
vocab = json.loads(sys.argv[1]); cache = sys.argv[2]
preds = np.load(cache + '/predictions.npy'); labels = np.load(cache + '/label_ids.npy')
preds = np.where(preds != -100, preds, 0); labels = np.where(labels != -100, labels, 0)
text = lambda row: ' '.join(vocab[i] for i in row if i >= 5)
tok = lambda s: re.sub(r'[^a-z0-9]+', ' ', s.lower()).split()
def ngrams(t, n): return collections.Counter(tuple(t[i:i + n]) for i in range(len(t) - n + 1))
def f(o, p, r):
    P = o / max(p, 1); R = o / max(r, 1)
    return 0.0 if P + R == 0 else 2 * P * R / (P + R)
def rn(t, p, n):
    a, b = ngrams(t, n), ngrams(p, n)
    return f(sum((a & b).values()), sum(b.values()), sum(a.values()))
def rl(t, p):
    d = [[0] * (len(p) + 1) for _ in range(len(t) + 1)]
    for i in range(len(t)):
        for j in range(len(p)):
            d[i + 1][j + 1] = d[i][j] + 1 if t[i] == p[j] else max(d[i][j + 1], d[i + 1][j])
    return f(d[-1][-1], len(p), len(t))
P = [tok(text(r)) for r in preds]; T = [tok(text(r)) for r in labels]
out = {'rouge1': np.mean([rn(t, p, 1) for t, p in zip(T, P)]), 'rouge2': np.mean([rn(t, p, 2) for t, p in zip(T, P)]), 'rougeL': np.mean([rl(t, p) for t, p in zip(T, P)])}
out = {k: round(float(v) * 100, 4) for k, v in out.items()}
out['gen_len'] = float(np.mean([np.count_nonzero(r != 0) for r in preds]))
print(json.dumps(out))
`;

test('seq2seq --predict-with-generate without --metrics: eval_rouge1/2/L and eval_gen_len as run_summarization; the width lint', () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeSeq2SeqModel(modelDir, 'merged', { seed: 4, eosSlope: 1.0, eosFrom: 4 });
    const questions = texts(6, 7);
    const answers = texts(6, 11, 4);
    const dataset = writeJsonl(path.join(dir, 'qa.jsonl'), questions.map((q, i) => ({ question: q, answer: answers[i] })));
    const cli = (args: string[]) => spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd: dir, encoding: 'utf8' });
    const common = ['--model', modelDir, '--dataset', dataset, '--batch-size', '4', '--predict-with-generate', '--label-column', 'answer', '--text-column', 'question'];
    const r = cli(['run', ...common, '--out', 'cache', '--max-new-tokens', '30']);
    assert.equal(r.status, 0, r.stderr);
    const metrics = JSON.parse(r.stdout.trim());
    const expected = JSON.parse(runPython(`${SUMMARIZATION_REFERENCE}`.replace('sys.argv[1]', JSON.stringify(JSON.stringify(GEN_VOCAB))).replace('sys.argv[2]', JSON.stringify(path.join(dir, 'cache')))));
    for (const k of ['rouge1', 'rouge2', 'rougeL', 'gen_len']) assert.ok(Math.abs(metrics[`eval_${k}`] - expected[k]) < 1e-9, `eval_${k}: ${metrics[`eval_${k}`]} vs ${expected[k]}`);
    assert.ok(expected.gen_len > 1 && expected.rouge1 > 0, `the model generated something that overlaps the targets: ${JSON.stringify(expected)}`);
    // max_new_tokens 30 > generation_config max_length 20 (the default): the generation-width lint on stderr and in inspect --json
    assert.match(r.stderr, /warning: max_new_tokens 30 lets generate\(\) produce rows up to 31 tokens/);
    const ins = cli(['inspect', '--cache', 'cache', '--json']);
    assert.equal(ins.status, 0, ins.stderr);
    assert.ok((JSON.parse(ins.stdout).lints as { id: string }[]).some((l) => l.id === 'generation-width'), ins.stdout);
    // no length anywhere: the generation-capped-20 lint
    const capped = cli(['run', ...common, '--out', 'cache20']);
    assert.equal(capped.status, 0, capped.stderr);
    assert.match(capped.stderr, /warning: generation is capped at 20 tokens/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('causal-lm without --metrics: eval_accuracy with the one-token shift over labels != -100 (NumPy on the cache)', () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeCausalLmModel(modelDir, true);
    const dataset = writeJsonl(path.join(dir, 'lm.jsonl'), texts(7, 3).map((t) => ({ text: t })));
    const r = spawnSync(process.execPath, [distFile('cli.js'), 'run', '--model', modelDir, '--dataset', dataset, '--batch-size', '3', '--out', 'cache'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const metrics = JSON.parse(r.stdout.trim());
    const expected = Number(
      runPython(`import numpy as np
p = np.load(${JSON.stringify(path.join(dir, 'cache', 'predictions.npy'))}); l = np.load(${JSON.stringify(path.join(dir, 'cache', 'label_ids.npy'))})
p = p.argmax(-1) if p.ndim == 3 else p
preds = p[:, :-1].reshape(-1); refs = l[:, 1:].reshape(-1); m = refs != -100
print(repr(float((preds[m] == refs[m]).mean())))`).trim(),
    );
    assert.equal(metrics.eval_accuracy, expected);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
