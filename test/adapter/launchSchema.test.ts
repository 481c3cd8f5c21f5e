// The launch schema in package.json, the validator and RunSettings are one table: these tests fail when
// they drift. Plus the validator's behaviour on relative paths, cache-only launches and typos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/core/paths';
import { localIO } from '../../src/core/runtime/io';
import { LAUNCH_EXTRA_FIELDS, RUN_SETTINGS_FIELDS, parseLaunchArgs } from '../../src/core/runtime/launchSettings';
import { findMetricFunction, diffMetrics } from '../../src/core/runtime/metricLocation';
import { TASK_NAMES } from '../../src/core/tasks';
import { tempDir } from '../fixtures/workspace';

const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));

test('package.json declares the evalpred debugger with exactly the launch attributes the adapter validates', () => {
  const dbg = pkg.contributes.debuggers.find((d: { type: string }) => d.type === 'evalpred');
  assert.ok(dbg, 'contributes.debuggers has type evalpred');
  assert.equal(dbg.program, './dist/debugAdapter.js');
  assert.equal(dbg.runtime, 'node');
  const props = dbg.configurationAttributes.launch.properties as Record<string, { description?: string; type?: string }>;
  assert.deepEqual(Object.keys(props).sort(), [...Object.keys(RUN_SETTINGS_FIELDS), ...Object.keys(LAUNCH_EXTRA_FIELDS)].sort());
  for (const [k, p] of Object.entries(props)) assert.ok(p.description && p.type, `${k} has a type and a description`);
  // The design's contract names (docs/architecture.md#the-debug-adapter) are all there.
  for (const k of ['model', 'dataset', 'split', 'textColumn', 'textPairColumn', 'textTemplate', 'labelColumn', 'batchSize', 'maxLength', 'maxTargetLength',
    'includeForMetrics', 'preprocess', 'predictWithGenerate', 'generationMaxLength', 'maxNewTokens', 'numBeams', 'metrics', 'function', 'cache']) {
    assert.ok(k in props, k);
  }
  // Every enum in the schema is the validator's list (one definition: the task names come from src/core/tasks.ts).
  for (const [k, f] of Object.entries({ ...RUN_SETTINGS_FIELDS, ...LAUNCH_EXTRA_FIELDS })) {
    const kind = f.kind as { type: string; values?: readonly string[] };
    const schema = props[k] as { enum?: string[]; items?: { enum?: string[] } };
    if (kind.type === 'enum') assert.deepEqual(schema.enum, [...kind.values!], `${k}: package.json enum`);
    if (kind.type === 'list' && kind.values?.length) assert.deepEqual(schema.items?.enum, [...kind.values], `${k}: package.json items.enum`);
  }
  assert.deepEqual((props.task as { enum?: string[] }).enum, [...TASK_NAMES], 'the launch schema offers every task the CLI accepts');
  // VS Code puts static initialConfigurations ahead of the provider's and selects the first: placeholders would
  // win over the complete entries EvalpredConfigurationProvider builds from the workspace (src/extension/debugConfig.ts).
  assert.equal(dbg.initialConfigurations, undefined);
  assert.ok(dbg.configurationSnippets.length >= 1);
});

test('parseLaunchArgs: relative paths resolve against cwd, strings split into lists, typos are named', () => {
  const dir = tempDir();
  try {
    fs.mkdirSync(path.join(dir, 'model'));
    fs.writeFileSync(path.join(dir, 'data.jsonl'), '{}\n');
    const l = parseLaunchArgs({ type: 'evalpred', request: 'launch', name: 'x', cwd: dir, model: 'model', dataset: 'data.jsonl', includeForMetrics: 'inputs, loss', batchsize: 4 }, localIO);
    assert.equal(l.run.model, path.join(dir, 'model'));
    assert.equal(l.run.dataset, path.join(dir, 'data.jsonl'));
    assert.deepEqual(l.run.includeForMetrics, ['inputs', 'loss']);
    assert.equal(l.run.batchSize, 8); // the typo did not set it...
    assert.deepEqual(l.warnings, ['launch configuration: unknown attribute "batchsize" ignored (did you mean "batchSize"?)']); // ...and is named
    assert.equal(l.cacheOnly, false);
    assert.throws(() => parseLaunchArgs({ cwd: dir, model: 'data.jsonl', dataset: 'data.jsonl' }, localIO), /"model" is .*data\.jsonl, which is a file; it must be a folder/);
    assert.throws(() => parseLaunchArgs({ cwd: dir, cache: 'model' }, localIO), /"cache" is .*model, which holds no manifest\.json/);
    assert.throws(() => parseLaunchArgs({ cwd: dir, model: 'model', dataset: 'data.jsonl', stopOnBatch: [0] }, localIO), /"stopOnBatch" must be a list of batch numbers/);
    assert.throws(() => parseLaunchArgs({ cwd: dir, model: 'model', dataset: 'data.jsonl', preprocess: 'softmax' }, localIO), /"preprocess" must be one of "argmax", got "softmax"/);
    assert.throws(() => parseLaunchArgs({ cwd: dir, model: 'model', dataset: 'data.jsonl', labelSmoothingFactor: 1.5 }, localIO), /"labelSmoothingFactor" must be a number >= 0 and <= 1, got 1\.5/);
    const tr = parseLaunchArgs({ cwd: dir, model: 'model', dataset: 'data.jsonl', labelSmoothingFactor: 0.1, dataloaderDropLast: true }, localIO);
    assert.equal(tr.run.labelSmoothingFactor, 0.1);
    assert.equal(tr.run.dataloaderDropLast, true);
    assert.deepEqual(parseLaunchArgs({ cwd: dir, model: 'model', dataset: 'data.jsonl', labelNames: 'start_positions, end_positions' }, localIO).run.labelNames, ['start_positions', 'end_positions']);
    assert.throws(() => parseLaunchArgs({ cwd: dir, model: 'model', dataset: 'data.jsonl', labelNames: ['start positions'] }, localIO), /"labelNames" must be a list of batch key names/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('findMetricFunction finds def / function / const / export default lines (1-based)', () => {
  assert.deepEqual(findMetricFunction('m.py', 'import numpy as np\n\n\ndef compute_metrics(eval_pred):\n    pass\n'), { file: 'm.py', line: 4, name: 'compute_metrics', param: 'eval_pred' });
  assert.equal(findMetricFunction('m.ts', '// x\nexport async function computeMetrics(p) {}\n').line, 2);
  assert.equal(findMetricFunction('m.ts', 'const a = 1;\nexport const computeMetrics = (p) => ({});\n').line, 2);
  assert.deepEqual(findMetricFunction('m.js', '\n\nexport default function (p) {}\n'), { file: 'm.js', line: 3, name: 'default export', param: 'p' });
  assert.deepEqual(findMetricFunction('m.py', 'def f1(p):\n  pass\ndef my_metrics(p):\n  pass\n', 'my_metrics'), { file: 'm.py', line: 3, name: 'my_metrics', param: 'p' });
});

test('diffMetrics names changed, added and removed keys with the delta', () => {
  assert.deepEqual(diffMetrics({ eval_accuracy: 0.5, eval_x: 1, eval_same: 2 }, { eval_accuracy: 0.75, eval_same: 2, eval_f1: 0.25 }), [
    '~ eval_accuracy: 0.5 -> 0.75 (+0.25)',
    '+ eval_f1: 0.25',
    '- eval_x: 1',
  ]);
});
