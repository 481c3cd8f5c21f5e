// The CLI flags, the RunSettings type and design.md's contract agree (js-debug's "one type" rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_FLAGS } from '../../src/cli/runFlags';
import { camel, parseArgs } from '../../src/cli/args';
import { settingsFromFlags } from '../../src/cli/commands/run';
import { RunSettings } from '../../src/core/loop/settings';

// Every RunSettings key, checked at compile time: adding a field without listing it here fails tsc.
const SETTINGS_KEYS: Record<keyof RunSettings, true> = {
  model: true, dataset: true, split: true, batchSize: true, maxLength: true, textColumn: true, textPairColumn: true,
  textTemplate: true, labelColumn: true, maxTargetLength: true, includeForMetrics: true, preprocess: true,
  predictWithGenerate: true, generationMaxLength: true, maxNewTokens: true, numBeams: true, metrics: true,
  function: true, cache: true, task: true, evalDoConcatBatches: true, maxSamples: true, evalPredictionProfile: true,
  labelSmoothingFactor: true, dataloaderDropLast: true,
};
// Flags whose setting has another name, and flags that are not settings.
const RENAMED: Record<string, keyof RunSettings> = { out: 'cache', 'no-concat': 'evalDoConcatBatches' };
const NOT_SETTINGS = new Set(['refresh', 'json']);

test('every run flag maps to a RunSettings field and every field has a flag', () => {
  const fromFlags = new Set(RUN_FLAGS.filter((f) => !NOT_SETTINGS.has(f.name)).map((f) => RENAMED[f.name] ?? camel(f.name)));
  assert.deepEqual([...fromFlags].sort(), Object.keys(SETTINGS_KEYS).sort());
});

test("design.md's CLI flags are all accepted", () => {
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
    /--eval-prediction-profile must be one of current, v4\.19-4\.45, <=4\.18, got "4\.18"/,
  );
});
