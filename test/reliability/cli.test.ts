// The CLI by the book and no silent wrong results (issue 9): what a user can type gets exit 0 with the right
// output, or exit 2 with one paragraph — never a stack, a repeated prefix, a raw escape, or fewer metrics.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CliCase, cliTable, copyDir } from './harness';
import { RUN_FLAGS } from '../../src/cli/runFlags';
import { GraphBuilder, attr } from '../../src/core/model/onnx/builder';
import { Tensor } from '../../src/core/tensor/tensor';
import { DEMO_VOCAB } from '../../src/demo';

const editJson = (file: string, edit: (j: Record<string, unknown>) => void) => {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(j);
  fs.writeFileSync(file, JSON.stringify(j, null, 2));
};

/** The fixture model copied into the row's folder as `model`, with config.json edited. */
const modelWith = (edit: (config: Record<string, unknown>) => void) => (d: string, fx: { model: string }) => {
  copyDir(fx.model, path.join(d, 'model'));
  editJson(path.join(d, 'model', 'config.json'), edit);
};

/** A .npy v1.0 file with the given header and no data (enough for a zero-size array of any declared shape). */
function emptyNpy(file: string, descr: string, shape: string): void {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1')]));
}

/**
 * A classifier with 8 learned positions and no max_position_embeddings in config.json: any input longer than 8
 * tokens makes onnxruntime fail inside the graph (Gather out of range), as an over-long input does in BERT.
 */
function writeEightPositionModel(dir: string, tokenizerFrom: string): void {
  const V = DEMO_VOCAB.length;
  const g = new GraphBuilder('eight-positions');
  g.input('input_ids', 'int64', ['batch', 'sequence']);
  g.initializer('W', Tensor.from('float32', [V, 2], Array.from({ length: 2 * V }, (_, i) => ((i * 7) % 13) / 13 - 0.5)));
  g.initializer('P', Tensor.from('float32', [8, 2], Array.from({ length: 16 }, (_, i) => i / 16)));
  const shape = g.op('Shape', ['input_ids']);
  const len = g.op('Gather', [shape, g.constant(Tensor.from('int64', [], [1n]))], { axis: 0 });
  const positions = g.op('Range', [g.constant(Tensor.from('int64', [], [0n])), len, g.constant(Tensor.from('int64', [], [1n]))]);
  const pos = g.op('Gather', ['P', positions], { axis: 0 });
  const tok = g.op('Gather', ['W', 'input_ids'], { axis: 0 });
  const sum = g.op('Add', [tok, pos]);
  g.node('ReduceMean', [sum], ['logits'], { axes: attr.ints([1]), keepdims: 0 });
  g.output('logits', 'float32', ['batch', 2]);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), g.toModel({ opset: 17 }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json']) fs.copyFileSync(path.join(tokenizerFrom, f), path.join(dir, f));
  editJson(path.join(dir, 'config.json'), (c) => delete c.max_position_embeddings);
}

const helpRow = (cmd: string, flags: string[]): CliCase => ({
  name: `${cmd} --help lists its flags, one line each, and exits 0`,
  args: [cmd, '--help'],
  code: 0,
  stdout: new RegExp(`^usage: evalpred ${cmd}`),
  check: (d, r) => {
    for (const f of [...flags, 'help']) assert.equal(r.stdout.split('\n').filter((l) => l.startsWith(`  --${f} `) || l === `  --${f}`).length, 1, `--${f}\n${r.stdout}`);
  },
});

const rows: CliCase[] = [
  // ---------------------------------------------------------------------------- no silent wrong results
  {
    name: 'id2label with 3 names on a 2-logit model is an error naming both',
    setup: modelWith((c) => {
      c.id2label = { 0: 'negative', 1: 'neutral', 2: 'positive' };
      c.label2id = { negative: 0, neutral: 1, positive: 2 };
      delete c.num_labels;
    }),
    args: (d, fx) => ['run', '--model', 'model', '--dataset', fx.dataset, '--out', 'out'],
    code: 2,
    stderr: /model\/config\.json: "id2label" names 3 labels \("negative", "neutral", "positive"\), but the model's logits have 2 columns/,
  },
  {
    name: 'num_labels disagreeing with id2label is an error naming both',
    setup: modelWith((c) => {
      c.num_labels = 3;
    }),
    args: (d, fx) => ['run', '--model', 'model', '--dataset', fx.dataset, '--out', 'out'],
    code: 2,
    stderr: /config\.json: "num_labels" is 3 but "id2label" names 2 labels \("negative", "positive"\)/,
  },
  {
    name: 'a class label 1.5 in a classification dataset is an error naming the row and the value',
    setup: (d, fx) => {
      const lines = fs.readFileSync(fx.dataset, 'utf8').trim().split('\n').slice(0, 30);
      const row = JSON.parse(lines[12]);
      row.label = 1.5;
      lines[12] = JSON.stringify(row);
      fs.writeFileSync(path.join(d, 'val.jsonl'), lines.join('\n') + '\n');
    },
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', 'val.jsonl', '--out', 'out', '--json'],
    code: 2,
    stderr: /val\.jsonl, row 12 \(line 13\), label column "label": the label is 1\.5, not a class id/,
  },
  {
    name: 'a model folder without config.json runs with a note saying what was assumed',
    setup: (d, fx) => {
      copyDir(fx.model, path.join(d, 'model'));
      fs.rmSync(path.join(d, 'model', 'config.json'));
    },
    args: (d, fx) => ['run', '--model', 'model', '--dataset', fx.dataset, '--out', 'out', '--max-samples', '16'],
    code: 0,
    stderr: /note: model has no config\.json: the task \(sequence-classification\) was taken from the model's outputs/,
    stdout: /"eval_loss":.*"eval_accuracy":.*"eval_f1"/,
    mayChange: ['out'],
  },
  {
    name: 'ANSI escapes in id2label are shown as text, never sent to the terminal raw',
    setup: modelWith((c) => {
      c.id2label = { 0: '\x1b[31mnegative', 1: 'positive\x1b]0;pwned\x07' };
      c.label2id = { '\x1b[31mnegative': 0, 'positive\x1b]0;pwned\x07': 1 };
    }),
    args: (d, fx) => ['run', '--model', 'model', '--dataset', fx.dataset, '--out', 'out', '--max-samples', '8'],
    code: 0,
    stderr: /\\x1b\[31mnegative|positive\\x1b\]0;pwned\\x07/,
    mayChange: ['out'],
    check: (d, r) => {
      assert.doesNotMatch(r.stderr + r.stdout, /[\x1b\x07]/);
    },
  },
  {
    name: 'inspect on a cache whose id2label holds escapes prints them as text',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'c'));
      editJson(path.join(d, 'c', 'manifest.json'), (m) => {
        (m.loop as { info: { id2label: unknown } }).info.id2label = { 0: '\x1b[2Jneg', 1: 'pos\x1b[0m' };
      });
    },
    args: ['inspect', 'c'],
    code: 0,
    stdout: /\\x1b\[2Jneg|pos\\x1b\[0m/,
    check: (d, r) => assert.doesNotMatch(r.stdout + r.stderr, /\x1b/),
  },
  {
    name: "onnxruntime's own log never reaches the terminal when the model fails on an over-long input",
    setup: (d, fx) => writeEightPositionModel(path.join(d, 'model'), fx.model),
    args: (d, fx) => ['run', '--model', 'model', '--dataset', fx.dataset, '--out', 'out', '--max-samples', '8'],
    code: 2,
    stderr: /^evalpred run: error: model\/model\.onnx: onnxruntime failed to run the model on a batch with input_ids int64\[8, \d+\]/m,
    check: (d, r) => assert.doesNotMatch(r.stderr, /sequential_executor|\[[EWIV]:onnxruntime/),
  },
  // ---------------------------------------------------------------------------------------- the CLI
  helpRow('run', RUN_FLAGS.map((f) => f.name)),
  helpRow('metrics', ['cache', 'metrics', 'function', 'watch', 'eval-prediction-profile']),
  helpRow('inspect', ['cache', 'json', 'samples']),
  helpRow('import', ['out']),
  helpRow('demo', ['dir']),
  {
    name: '--help after other flags (even wrong ones) is still help',
    args: ['run', '--model', 'm', '--bogus', '-h'],
    code: 0,
    stdout: /^usage: evalpred run/,
  },
  { name: '--version prints the version', args: ['--version'], code: 0, stdout: /^evalpred \d+\.\d+\.\d+\n$/ },
  {
    name: 'a one-dash typo (-out X) is an error pointing at --out',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '-out', 'x'],
    code: 2,
    stderr: /^evalpred run: error: unknown flag -out; flags take two dashes: --out/m,
  },
  {
    name: 'a stray positional argument to run is an error',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, 'out'],
    code: 2,
    stderr: /unexpected argument "out": evalpred run takes only flags/,
  },
  {
    name: 'import with two dumps is an error',
    args: (d, fx) => ['import', fx.cache, fx.cache, '--out', 'c'],
    code: 2,
    stderr: /unexpected argument ".*cache": evalpred import takes DUMP and flags/,
  },
  {
    name: '--max-samples 0 is a clear error, not an exit-70 stack',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--max-samples', '0'],
    code: 2,
    stderr: /--max-samples takes a whole number of at least 1, got "0"/,
  },
  {
    name: '--batch-size -1 is a clear error',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--batch-size', '-1'],
    code: 2,
    stderr: /--batch-size takes a whole number of at least 1, got "-1"/,
  },
  {
    name: '--batch-size four is a clear error',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--batch-size=four'],
    code: 2,
    stderr: /--batch-size takes a whole number/,
  },
  { name: 'an unknown command is an error listing the commands', args: ['evaluate'], code: 2, stderr: /^evalpred: error: unknown command "evaluate". Commands: run, metrics/m },
  {
    name: 'a misspelled flag is an error listing the known ones',
    args: ['run', '--modle', 'm'],
    code: 2,
    stderr: /^evalpred run: error: unknown flag --modle; known flags: --model, --dataset/m,
  },
  { name: 'a flag given twice is an error', args: ['import', 'x', '--out', 'a', '--out', 'b'], code: 2, stderr: /--out is given twice/ },
  { name: 'a switch with a value is an error', args: ['inspect', 'c', '--json=maybe'], code: 2, stderr: /--json is a switch and takes no value, got "maybe"/ },
  { name: 'run without --dataset names the missing flag', args: (d, fx) => ['run', '--model', fx.model], code: 2, stderr: /^evalpred run: error: --dataset is required/m },
  { name: 'inspect without a cache names the missing flag', args: ['inspect'], code: 2, stderr: /^evalpred inspect: error: --cache CACHE_DIR is required/m },
  { name: 'metrics without --metrics names the missing flag', args: (d, fx) => ['metrics', '--cache', fx.cache], code: 2, stderr: /--cache CACHE_DIR and --metrics FILE are required/ },
  {
    name: 'a bad --eval-prediction-profile lists the choices',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--eval-prediction-profile', '4.18'],
    code: 2,
    stderr: /^evalpred run: error: --eval-prediction-profile must be one of current, v4\.57, v4\.19-4\.45, <=4\.18, got "4\.18"/m,
  },
  { name: 'a bad --task lists the tasks', args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--task', 'ner'], code: 2, stderr: /--task must be one of sequence-classification/ },
  { name: 'a missing model folder is named', args: (d, fx) => ['run', '--model', 'nope', '--dataset', fx.dataset], code: 2, stderr: /model folder nope does not exist/ },
  { name: 'importing a missing dump names it', args: ['import', 'nope.npz', '--out', 'c'], code: 2, stderr: /nope\.npz does not exist/ },
  { name: 'metrics on a folder that is not a cache says so', args: ['metrics', '--cache', '.', '--metrics', 'm.py'], code: 2, stderr: /is not an evalpred prediction cache: it has no manifest\.json/ },
  {
    name: '"loop": "garbage" in a manifest is named, not a TypeError',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'c'));
      editJson(path.join(d, 'c', 'manifest.json'), (m) => (m.loop = 'garbage'));
      fs.writeFileSync(path.join(d, 'm.ts'), 'export function computeMetrics() { return { x: 1 }; }\n');
    },
    args: ['metrics', '--cache', 'c', '--metrics', 'm.ts'],
    code: 2,
    stderr: /c\/manifest\.json.*"loop" is (string )?"garbage", not /,
  },
  {
    name: 'a loop record with a wrong field type is named by inspect',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'c'));
      editJson(path.join(d, 'c', 'manifest.json'), (m) => ((m.loop as Record<string, unknown>).task = 5));
    },
    args: ['inspect', 'c'],
    code: 2,
    stderr: /c\/manifest\.json.*"loop\.task" is (number )?5, not a task name/,
  },
  {
    name: 'inspect on a (10^15, 0) predictions array is reported as cache damage, not a stack',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'c'));
      emptyNpy(path.join(d, 'c', 'predictions.npy'), '<f4', '(1000000000000000, 0)');
    },
    args: ['inspect', 'c'],
    code: 2,
    stderr: /the prediction cache c is damaged: .*1000000000000000 rows/,
  },
];

cliTable('command line', rows);
