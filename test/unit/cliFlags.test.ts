// The CLI flags, the RunSettings type and the documented contract agree (js-debug's "one type" rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_FLAGS } from '../../src/cli/runFlags';
import { HelpRequested, camel, parseArgs, usage } from '../../src/cli/args';
import { printable } from '../../src/cli/terminalText';
import { settingsFromFlags } from '../../src/cli/commands/run';
import { RunSettings } from '../../src/core/loop/settings';
import { TASK_NAMES } from '../../src/core/tasks';

// Every RunSettings key, checked at compile time: adding a field without listing it here fails tsc.
const SETTINGS_KEYS: Record<keyof RunSettings, true> = {
  model: true, dataset: true, split: true, batchSize: true, maxLength: true, textColumn: true, textPairColumn: true,
  textTemplate: true, labelColumn: true, maxTargetLength: true, includeForMetrics: true, preprocess: true,
  predictWithGenerate: true, generationMaxLength: true, maxNewTokens: true, numBeams: true, metrics: true,
  function: true, cache: true, task: true, evalDoConcatBatches: true, maxSamples: true, evalPredictionProfile: true,
  labelSmoothingFactor: true, labelNames: true, dataloaderDropLast: true, batchEvalMetrics: true, device: true, docStride: true, padToMaxLength: true, maxAnswerLength: true,
  nBestSize: true, version2WithNegative: true, nullScoreDiffThreshold: true, numReturnSequences: true, repetitionPenalty: true,
  noRepeatNgramSize: true, badWordsIds: true,
};
// Flags whose setting has another name, and flags that are not settings.
const RENAMED: Record<string, keyof RunSettings> = { out: 'cache', 'no-concat': 'evalDoConcatBatches', 'no-pad-to-max-length': 'padToMaxLength' };
const NOT_SETTINGS = new Set(['refresh', 'json', 'memory-limit-mb', 'python']);

test('every run flag maps to a RunSettings field and every field has a flag', () => {
  const fromFlags = new Set(RUN_FLAGS.filter((f) => !NOT_SETTINGS.has(f.name)).map((f) => RENAMED[f.name] ?? camel(f.name)));
  assert.deepEqual([...fromFlags].sort(), Object.keys(SETTINGS_KEYS).sort());
});

test("the CLI contract's flags are all accepted", () => {
  const contract = ['model', 'dataset', 'out', 'split', 'batch-size', 'max-length', 'text-column', 'text-pair-column', 'text-template',
    'label-column', 'max-target-length', 'include-for-metrics', 'preprocess', 'predict-with-generate', 'generation-max-length',
    'max-new-tokens', 'num-beams', 'metrics', 'function'];
  const names = new Set(RUN_FLAGS.map((f) => f.name));
  for (const c of contract) assert.ok(names.has(c), `--${c}`);
});

test('flags parse into settings with Trainer defaults; bad values are clear errors', () => {
  const s = settingsFromFlags(parseArgs(['--model', 'm', '--dataset=d.jsonl', '--include-for-metrics', 'inputs,loss', '--batch-size', '4', '--out', 'c'], RUN_FLAGS, 'run'));
  assert.equal(s.batchSize, 4);
  assert.deepEqual(s.includeForMetrics, ['inputs', 'loss']);
  assert.equal(s.cache, 'c');
  assert.equal(s.evalDoConcatBatches, true);
  assert.equal(settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd'], RUN_FLAGS, 'run')).batchSize, 8);
  assert.throws(() => parseArgs(['--modle', 'm'], RUN_FLAGS, 'run'), /unknown flag --modle/);
  assert.throws(() => settingsFromFlags(parseArgs(['--model', 'm'], RUN_FLAGS, 'run')), /--dataset is required/);
  assert.throws(() => settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd', '--include-for-metrics', 'logits'], RUN_FLAGS, 'run')), /inputs and\/or loss/);
  assert.throws(() => parseArgs(['--batch-size', 'four'], RUN_FLAGS, 'run'), /whole number/);
  const old = settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd', '--eval-prediction-profile', '<=4.18'], RUN_FLAGS, 'run'));
  assert.equal(old.evalPredictionProfile, '<=4.18');
  assert.equal(settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd'], RUN_FLAGS, 'run')).evalPredictionProfile, undefined);
  const tr = settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd', '--label-smoothing-factor', '0.1', '--dataloader-drop-last'], RUN_FLAGS, 'run'));
  assert.equal(tr.labelSmoothingFactor, 0.1);
  assert.equal(tr.dataloaderDropLast, true);
  assert.throws(() => parseArgs(['--label-smoothing-factor', 'lots'], RUN_FLAGS, 'run'), /--label-smoothing-factor takes a number, got "lots"/);
  assert.throws(
    () => settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd', '--label-smoothing-factor', '1.5'], RUN_FLAGS, 'run')),
    /--label-smoothing-factor takes a number from 0 to 1/,
  );
  assert.throws(
    () => settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd', '--eval-prediction-profile', '4.18'], RUN_FLAGS, 'run')),
    /--eval-prediction-profile must be one of current, v4\.57, v4\.19-4\.45, <=4\.18, got "4\.18"/,
  );
});

test('strict parsing: one-dash typos, stray positionals, repeats, zero counts and switch values are errors; --help anywhere is help', () => {
  const run = (argv: string[]) => parseArgs(argv, RUN_FLAGS, 'run');
  assert.throws(() => run(['-out', 'x']), /^EvalpredError: unknown flag -out; flags take two dashes: --out \(see evalpred run --help\)\.$/);
  assert.throws(() => run(['-z']), /unknown flag -z; known flags: --model, --dataset/);
  assert.throws(() => run(['--model', 'm', 'stray']), /unexpected argument "stray": evalpred run takes only flags/);
  assert.throws(() => run(['--out', 'a', '--out', 'b']), /--out is given twice/);
  assert.throws(() => run(['--max-samples', '0']), /--max-samples takes a whole number of at least 1, got "0"/);
  assert.throws(() => run(['--max-samples', '1.5']), /whole number/);
  assert.throws(() => run(['--max-samples', '1e999']), /whole number/);
  assert.throws(() => run(['--max-samples', '99999999999999999999']), /--max-samples is too large: 99999999999999999999/);
  assert.throws(() => run(['--json=maybe']), /--json is a switch and takes no value, got "maybe"/);
  assert.throws(() => run(['--out']), /--out needs a value/);
  assert.equal(run(['--json=false']).flags.json, false);
  assert.equal(run(['--text-template', '-{a}-']).flags['text-template'], '-{a}-'); // a value may start with a dash
  const pos = [{ name: 'DUMP', help: 'a dump' }];
  assert.deepEqual(parseArgs(['d.npz', '--out', 'c'], [{ name: 'out', type: 'string', help: 'x' }], 'import', pos).positional, ['d.npz']);
  assert.throws(() => parseArgs(['a', 'b'], [], 'import', pos), /unexpected argument "b": evalpred import takes DUMP and flags/);
  for (const argv of [['--help'], ['--model', 'm', '-h'], ['--bogus', '--help']]) {
    assert.throws(() => run(argv), (e: unknown) => e instanceof HelpRequested && /^usage: evalpred run \[flags\]\n\n {2}--model VALUE +folder with model\.onnx/.test(e.text));
  }
  // help lists every flag, one line each
  const lines = usage('run', RUN_FLAGS).split('\n').filter((l) => l.startsWith('  --'));
  assert.equal(lines.length, RUN_FLAGS.length + 1);
});

test('printable: control characters in data become visible escapes; tab and newline stay', () => {
  assert.equal(printable('\x1b[31mneutral\x1b[0m\tok\nnext\x07\u2028'), '\\x1b[31mneutral\\x1b[0m\tok\nnext\\x07\\u2028');
  assert.equal(printable('положительный 👍'), 'положительный 👍');
});

test('--task accepts exactly the task names of src/core/tasks.ts (the launch schema enum is the same list)', () => {
  const base = ['--model', 'm', '--dataset', 'd'];
  for (const t of TASK_NAMES) assert.equal(settingsFromFlags(parseArgs([...base, '--task', t], RUN_FLAGS, 'run')).task, t);
  assert.throws(() => settingsFromFlags(parseArgs([...base, '--task', 'summarization'], RUN_FLAGS, 'run')), new RegExp(`--task must be one of ${TASK_NAMES.join(', ')}, got "summarization"`));
  assert.match(RUN_FLAGS.find((f) => f.name === 'task')!.help, new RegExp(TASK_NAMES.join(' \\| ')));
});

test('--label-names is a comma list of batch keys, in order', () => {
  const s = settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd', '--label-names', 'end_positions, start_positions'], RUN_FLAGS, 'run'));
  assert.deepEqual(s.labelNames, ['end_positions', 'start_positions']);
  assert.equal(settingsFromFlags(parseArgs(['--model', 'm', '--dataset', 'd'], RUN_FLAGS, 'run')).labelNames, undefined);
});

test('run_qa post-processing flags need --doc-stride; strides and sizes are whole numbers', () => {
  const base = ['--model', 'm', '--dataset', 'd.jsonl'];
  assert.throws(() => settingsFromFlags(parseArgs([...base, '--n-best-size', '5', '--version-2-with-negative'], RUN_FLAGS, 'run')), /--n-best-size, --version-2-with-negative belong to run_qa\.py's post-processing: add --doc-stride/);
  assert.throws(() => settingsFromFlags(parseArgs([...base, '--doc-stride', '-1'], RUN_FLAGS, 'run')), /--doc-stride takes a whole number \(0 or more\), got "-1"/);
  const s = settingsFromFlags(parseArgs([...base, '--doc-stride', '128', '--no-pad-to-max-length', '--null-score-diff-threshold', '0.5'], RUN_FLAGS, 'run'));
  assert.equal(s.docStride, 128);
  assert.equal(s.padToMaxLength, false);
  assert.equal(s.nullScoreDiffThreshold, 0.5);
  assert.equal(settingsFromFlags(parseArgs([...base, '--doc-stride', '64'], RUN_FLAGS, 'run')).padToMaxLength, undefined); // run_qa's default (true)
});
