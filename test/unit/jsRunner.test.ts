import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { JsMetricRunner, DataSource } from '../../src/core/metrics/jsRunner';
import { finalizeMetrics, MetricFunctionError } from '../../src/core/metrics/postprocess';
import { Tensor, EvalPredictionData } from '../../src/core/tensor/tensor';
import { isEvalpredError } from '../../src/core/errors';
import { tempDir } from '../helpers/tempDir';

let dir: string;
let workerFile: string;
let runner: JsMetricRunner;

// logits rows argmax to 2, 0, 1, 1; labels 2, 0, 0, 1 -> 3 of 4 right: accuracy 0.75.
const logits = [0.1, 0.2, 0.9, 0.8, 0.1, 0.1, 0.3, 0.5, 0.2, 0.0, 1.0, -1.0];
const labels = [2, 0, 0, 1];
function data(withInputs = false): EvalPredictionData {
  return {
    predictions: Tensor.from('float32', [4, 3], logits),
    labelIds: Tensor.from('int64', [4], labels),
    inputs: withInputs ? Tensor.from('int64', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]) : null,
    losses: null,
  };
}
const source = (key = 'k1', withInputs = false): DataSource => ({ key, load: () => data(withInputs) });

function write(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  return p;
}

const ACCURACY = `
export function computeMetrics(evalPred) {
  const preds = evalPred.predictions.argmax(-1);
  const labels = evalPred.labelIds;
  let ok = 0;
  for (let i = 0; i < labels.size; i++) if (preds.at(i) === labels.at(i)) ok++;
  return { accuracy: ok / labels.size };
}
`;

before(async () => {
  dir = tempDir();
  workerFile = path.join(dir, 'metricWorker.js');
  await esbuild.build({
    entryPoints: [path.join(__dirname, '../../../src/core/metrics/jsWorker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: workerFile,
    logLevel: 'silent',
  });
  runner = new JsMetricRunner({ workerFile, timeoutMs: 5000 });
});

after(async () => {
  await runner.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a correct function: accuracy, prefixed by finalizeMetrics', async () => {
  const f = write('acc.ts', ACCURACY);
  const r = await runner.run(f, source());
  assert.deepEqual(finalizeMetrics(r.raw).metrics, { eval_accuracy: 0.75 });
});

test('compute_metrics, default export and --function are found; missing one lists the exports', async () => {
  const f = write('names.js', `
    exports.compute_metrics = (ep) => ({ rows: ep.label_ids.shape[0] });
    exports.other = (ep) => ({ cols: ep.predictions.shape[1] });
    exports.helperValue = 3;`);
  assert.deepEqual(finalizeMetrics((await runner.run(f, source())).raw).metrics, { eval_rows: 4 });
  assert.deepEqual(finalizeMetrics((await runner.run(f, source(), { functionName: 'other' })).raw).metrics, { eval_cols: 3 });
  const d = write('def.ts', `export default async function (ep: any) { return { n: ep.predictions.size }; }`);
  assert.deepEqual(finalizeMetrics((await runner.run(d, source())).raw).metrics, { eval_n: 12 });
  await assert.rejects(runner.run(f, source(), { functionName: 'nope' }), (e: Error) => {
    assert.ok(isEvalpredError(e));
    assert.match(e.message, /no exported function 'nope'/);
    assert.match(e.message, /compute_metrics, other, helperValue/);
    return true;
  });
});

test('an error thrown by user code names their file:line:col (source-mapped TS)', async () => {
  const f = write('boom.ts', [
    'interface EP { predictions: any; labelIds: any }', // 1
    'export function computeMetrics(ep: EP) {', // 2
    '  const x: number = 1;', // 3
    '  const t = (ep as any).missing;', // 4
    '  return { v: t.argmax() + x };', // 5: t is undefined
    '}',
  ].join('\n'));
  await assert.rejects(runner.run(f, source()), (e: Error) => {
    assert.ok(e instanceof MetricFunctionError, String(e));
    assert.match(e.message, /^boom\.ts:5:\d+: TypeError: Cannot read properties of undefined \(reading 'argmax'\)/);
    assert.equal(e.place.line, 5);
    return true;
  });
});

test('a syntax error names file:line:col from esbuild', async () => {
  const f = write('syntax.ts', 'export function computeMetrics(ep) {\n  return { a: 1 ;\n}\n');
  await assert.rejects(runner.run(f, source()), (e: Error) => {
    assert.ok(isEvalpredError(e));
    assert.match(e.message, /^syntax\.ts:2:\d+: /);
    return true;
  });
});

test('an endless loop times out, the worker is killed, and the next run works', async () => {
  const f = write('loop.js', 'exports.computeMetrics = () => { for (;;) {} };');
  const quick = new JsMetricRunner({ workerFile, timeoutMs: 300 });
  try {
    await assert.rejects(quick.run(f, source()), /did not finish within 0\.3 s/);
    const g = write('ok.js', 'exports.computeMetrics = (ep) => ({ n: ep.labelIds.size });');
    assert.deepEqual(finalizeMetrics((await quick.run(g, source())).raw).metrics, { eval_n: 4 });
  } finally {
    await quick.close();
  }
});

test('returns a string, an array, NaN: clear errors and a visible NaN warning', async () => {
  const raw = async (body: string, name: string) => (await runner.run(write(name, body), source())).raw;
  const s = await raw('exports.computeMetrics = () => "0.5";', 'str.js');
  assert.throws(() => finalizeMetrics(s), /compute_metrics returned a string: "0\.5"/);
  const a = await raw('exports.computeMetrics = () => [0.5, 0.3];', 'arr.js');
  assert.throws(() => finalizeMetrics(a), /compute_metrics returned an array: \[ 0\.5, 0\.3 \]/);
  const n = await raw('exports.computeMetrics = () => ({ f1: 0 / 0, acc: 1 });', 'nan.js');
  const r = finalizeMetrics(n);
  assert.ok(Number.isNaN(r.metrics.eval_f1));
  assert.equal(r.metrics.eval_acc, 1);
  assert.match(r.warnings.join('\n'), /eval_f1 is NaN/);
});

test('imports a helper module (relative) and async functions are awaited', async () => {
  write('lib/helpers.ts', 'export function mean(xs: number[]): number { return xs.reduce((a, b) => a + b, 0) / xs.length; }\n');
  const f = write('withHelper.ts', `
    import { mean } from './lib/helpers';
    export async function computeMetrics(ep: any) {
      await new Promise((r) => setTimeout(r, 5));
      const l = Array.from(ep.labelIds.toArray() as number[]);
      return { mean_label: mean(l) };
    }`);
  assert.deepEqual(finalizeMetrics((await runner.run(f, source())).raw).metrics, { eval_mean_label: 0.75 }); // (2+0+0+1)/4
});

test('edits are picked up (rebundle on change) and prints are captured, not leaked', async () => {
  const f = write('edit.js', 'exports.computeMetrics = () => { console.log("hello"); return { v: 1 }; };');
  const r1 = await runner.run(f, source());
  assert.equal(r1.stdout, 'hello\n');
  await new Promise((r) => setTimeout(r, 20));
  fs.writeFileSync(f, 'exports.computeMetrics = () => ({ v: 22 });');
  fs.utimesSync(f, new Date(), new Date(Date.now() + 2000));
  assert.deepEqual(finalizeMetrics((await runner.run(f, source())).raw).metrics, { eval_v: 22 });
});

test('in-place edits of the arrays do not leak into the next rerun; iteration like EvalPrediction', async () => {
  const f = write('mutate.js', `exports.computeMetrics = (ep) => {
      const before = ep.labelIds.at(0);
      ep.labelIds.data.fill(-100n);
      const items = [...ep];
      return { before, items: items.length, tupleKind: Array.isArray(ep.inputs) ? 1 : 0 };
    };`);
  const a = finalizeMetrics((await runner.run(f, source('with-inputs', true))).raw).metrics;
  const b = finalizeMetrics((await runner.run(f, source('with-inputs', true))).raw).metrics;
  assert.deepEqual(a, { eval_before: 2, eval_items: 3, eval_tupleKind: 0 });
  assert.deepEqual(b, a);
});

test('tuples arrive as arrays marked tuple; attribute typos get a hint', async () => {
  const f = write('tuple.js', `exports.computeMetrics = (ep) => ({
      kind: ep.predictions.kind === 'tuple' ? 1 : 0, n: ep.predictions.length, first: ep.predictions[0].shape[1] });`);
  const tupled: DataSource = {
    key: 'tuple',
    load: () => ({ ...data(), predictions: { tuple: [Tensor.full('float32', [4, 3]), Tensor.full('float32', [4, 5, 2])] } }),
  };
  assert.deepEqual(finalizeMetrics((await runner.run(f, tupled)).raw).metrics, { eval_kind: 1, eval_n: 2, eval_first: 3 });
  const typo = write('typo.js', 'exports.computeMetrics = (ep) => ({ n: ep.labels.size });');
  await assert.rejects(runner.run(typo, source()), /typo\.js:1:\d+: TypeError: evalPred has no property 'labels'.*labelIds/);
});

test('preprocessLogitsForMetrics runs per batch and returns a tensor; files without one give null', async () => {
  const f = write('pre.ts', `export const computeMetrics = () => ({});
    export function preprocessLogitsForMetrics(logits: any, labels: any) { return logits.argmax(-1); }`);
  assert.equal(await runner.hasPreprocess(f), true);
  const out = await runner.preprocess(f, Tensor.from('float32', [2, 3], [0, 5, 1, 9, 0, 0]), Tensor.from('int64', [2], [1, 0]));
  assert.ok(out instanceof Tensor);
  assert.equal(out.dtype, 'int64');
  assert.deepEqual(out.toArray(), [1, 0]);
  const g = write('nopre.ts', 'export const computeMetrics = () => ({});');
  assert.equal(await runner.hasPreprocess(g), false);
  assert.equal(await runner.preprocess(g, Tensor.full('float32', [1]), null), null);
});
