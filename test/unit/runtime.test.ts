// EvalRuntime driven directly, without DAP: its own stops and frames, sample(i), runInfo(), lints(),
// setBatchStops() and breakpoints, expressions, and the IO it gets through its constructor (files, the
// tokenizer, the cache and the metric runners). The metric function runs in the real JS runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { writeCache } from '../../src/core/cache/store';
import { isEvalpredError } from '../../src/core/errors';
import { formatValue } from '../../src/core/expr';
import { EvalRuntime, MetricsReport, RuntimeRunInfo, RuntimeStop } from '../../src/core/runtime/evalRuntime';
import { RuntimeServices, localServices } from '../../src/core/runtime/io';
import { Tensor } from '../../src/core/tensor/tensor';
import type { LoadedTokenizer } from '../../src/core/text';
import { tempDir } from '../fixtures/workspace';

// predictions: a tuple (logits, extra output); label 3 is -100; inputs are token ids.
const LOGITS = [0.1, 0.7, 0.2, 0.9, 0.05, 0.05, 0.2, 0.3, 0.5, 0.6, 0.3, 0.1];
const LABELS = [1, 0, 1, -100];
const INPUTS = [5, 6, 7, 0, 0, 8, 9, 0, 0, 0, 5, 5, 5, 5, 0, 7, 0, 0, 0, 0];

function cacheIn(dir: string): string {
  const cache = path.join(dir, 'cache');
  const ep = {
    predictions: { tuple: [Tensor.from('float32', [4, 3], LOGITS), Tensor.from('float32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])] },
    labelIds: Tensor.from('int64', [4], LABELS),
    inputs: Tensor.from('int64', [4, 5], INPUTS),
    losses: null,
  };
  writeCache(cache, ep, { numSamples: 4, key: 'runtime-test', producer: { model: { path: path.join(dir, 'the model') } } });
  return cache;
}

const METRIC = `const decodeLabels = (tok: any, p: any) => tok.decode(p.labelIds);
// (never called: the decode makes the decode lint look at the labels)
export function computeMetrics(p: any) {
  const preds = p.predictions[0].argmax(-1);
  let hit = 0;
  for (let i = 0; i < 3; i++) if (preds.get(i) === p.labelIds.get(i)) hit++;
  console.log('hits', hit);
  return { accuracy: hit / 3 };
}
`;

interface Recorder {
  events: string[];
  stops: RuntimeStop[];
  ready: RuntimeRunInfo[];
  metrics: MetricsReport[];
  next(kind?: RuntimeStop['kind']): Promise<RuntimeStop>;
}

function record(rt: EvalRuntime): Recorder {
  const r: Recorder = {
    events: [],
    stops: [],
    ready: [],
    metrics: [],
    next: (kind) =>
      new Promise((resolve) => {
        const on = (s: RuntimeStop) => {
          if (kind && s.kind !== kind) return;
          rt.off('stop', on);
          resolve(s);
        };
        rt.on('stop', on);
      }),
  };
  rt.on('ready', (i) => (r.events.push('ready'), r.ready.push(i)));
  rt.on('stop', (s) => (r.events.push(`stop:${s.kind}`), r.stops.push(s)));
  rt.on('metrics', (m) => (r.events.push('metrics'), r.metrics.push(m)));
  rt.on('end', () => r.events.push('end'));
  return r;
}

/** Local services with a tokenizer that spells ids, a file reader that can be told what a file holds, and counted closes. */
function services(overrides: Map<string, string>) {
  const base = localServices();
  const calls = { tokenizerDirs: [] as string[], reads: [] as string[], closes: 0 };
  const s: RuntimeServices = {
    ...base,
    files: { ...base.files, readText: (f) => (calls.reads.push(f), overrides.get(f) ?? base.files.readText(f)) },
    loadTokenizer: async (dir) => {
      calls.tokenizerDirs.push(dir);
      return { decode: (ids: ArrayLike<number | bigint>) => Array.from(ids, Number).filter((i) => i > 0).map((i) => `w${i}`).join(' ') } as unknown as LoadedTokenizer;
    },
    metrics: (opts) => {
      const m = base.metrics(opts);
      return { ...m, close: async () => (calls.closes++, m.close()) };
    },
  };
  return { services: s, calls };
}

test('a cache opened alone: ready, then its own boundary stop with the frame at the metric function; samples, run info and expressions from the injected tokenizer', async () => {
  const dir = tempDir();
  try {
    const cache = cacheIn(dir);
    const metricFile = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metricFile, METRIC);
    const { services: svc, calls } = services(new Map());
    const rt = new EvalRuntime(svc);
    const rec = record(rt);
    const launch = rt.parseLaunch({ cache, metrics: metricFile });
    const stopped = rec.next();
    await rt.start(launch);
    const stop = await stopped;
    assert.deepEqual(rec.events, ['ready', 'stop:boundary']);
    assert.deepEqual(stop, { kind: 'boundary', reason: 'entry', location: { file: metricFile, line: 3, name: 'computeMetrics', param: 'p' } });
    // The frame carries the user's own parameter name.
    assert.deepEqual(rt.stack(), [{ name: 'computeMetrics(p)', file: metricFile, line: 3 }]);
    // The tokenizer comes from the model the manifest names, through the injected loader.
    assert.deepEqual(calls.tokenizerDirs, [path.join(dir, 'the model')]);

    assert.deepEqual(rec.ready[0], rt.runInfo());
    const info = rt.runInfo()!;
    assert.equal(info.cacheDir, cache);
    assert.equal(info.cacheKey, 'runtime-test');
    assert.equal(info.fromCache, true);
    assert.equal(info.numSamples, 4);
    assert.equal(info.settings.metrics, metricFile);
    assert.equal(info.timings, undefined, 'a cache without a loop record has no timings');

    const s1 = rt.sample(1)!;
    assert.equal(s1.index, 1);
    assert.equal(s1.view?.input, 'w8 w9');
    assert.equal(s1.view?.prediction, '0'); // argmax of [0.9, 0.05, 0.05]
    assert.equal(s1.view?.label, '0');
    assert.equal(s1.view?.correct, true);
    assert.deepEqual(s1.rows.map((r) => [r.name, r.value.shape, Array.from(r.value.data as ArrayLike<number | bigint>, Number)]), [
      ['predictions[0][1]', [3], [0.8999999761581421, 0.05000000074505806, 0.05000000074505806]],
      ['predictions[1][1]', [2], [3, 4]],
      ['label_ids[1]', [], [0]],
      ['inputs[1]', [5], [8, 9, 0, 0, 0]],
    ]);
    assert.equal(rt.sample(99)!.index, 3, 'an index past the end shows the last sample');

    assert.equal(rt.decoder()!([5, 6, 0]), 'w5 w6');
    assert.equal(rt.holdsTokenIds('inputs'), true);
    assert.equal(rt.holdsTokenIds('predictions'), false);
    const decoded = await rt.evaluate('decode(inputs[sample])', 2);
    assert.equal(decoded, 'w5 w5 w5 w5');
    await rt.shutdown();
    assert.equal(calls.closes, 1, 'shutdown closes the injected metric runners');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lints() read the metric file through the injected IO, as it is now', async () => {
  const dir = tempDir();
  try {
    const cache = cacheIn(dir);
    const metricFile = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metricFile, METRIC);
    const files = new Map<string, string>();
    const { services: svc } = services(files);
    const rt = new EvalRuntime(svc);
    const rec = record(rt);
    const stopped = rec.next();
    await rt.start(rt.parseLaunch({ cache, metrics: metricFile }));
    await stopped;
    const ids = (l: { id: string }[]) => l.map((x) => x.id).sort();
    const before = await rt.lints();
    assert.ok(ids(before).includes('tuple-predictions'), ids(before).join());
    const decodeLint = before.find((l) => l.id === 'decode-minus-100');
    assert.ok(decodeLint, `label_ids holds -100 and the source decodes: ${ids(before).join()}`);
    assert.equal(decodeLint.line, 1);
    assert.equal(decodeLint.severity, 'warning');
    // The file "changes" (as the injected reader sees it): -100 is now replaced before the decode, the lint goes.
    files.set(metricFile, METRIC.replace('tok.decode(p.labelIds)', 'tok.decode(p.labelIds.map((v: number) => (v === -100 ? 0 : v)))'));
    assert.equal((await rt.lints()).find((l) => l.id === 'decode-minus-100'), undefined);
    // No metric file: the source-based lints are gone, the array ones stay.
    files.set(metricFile, '');
    assert.equal((await rt.lints()).find((l) => l.id === 'decode-minus-100'), undefined);
    assert.ok(ids(await rt.lints()).includes('tuple-predictions'));
    await rt.shutdown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('continue runs the metric and stops again (reason metrics); a failing metric stops on the error at its line; restartFrame reruns and stops with reason restart', async () => {
  const dir = tempDir();
  try {
    const cache = cacheIn(dir);
    const metricFile = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metricFile, METRIC);
    const { services: svc } = services(new Map());
    const rt = new EvalRuntime(svc);
    const rec = record(rt);
    const first = rec.next();
    await rt.start(rt.parseLaunch({ cache, metrics: metricFile }));
    await first;
    await assert.rejects(rt.evaluate('nope(', 0), (e) => isEvalpredError(e));

    const second = rec.next();
    rt.continue();
    const s2 = await second;
    assert.equal(s2.kind === 'boundary' && s2.reason, 'metrics');
    // preds argmax rows 0..2: [1, 0, 2] vs labels [1, 0, 1]: 2 hits of 3.
    assert.equal(rec.metrics.length, 1);
    assert.equal(rec.metrics[0].outcome.metrics.eval_accuracy, 2 / 3);
    assert.equal(rt.runInfo()!.lastMetrics?.metrics.eval_accuracy, 2 / 3);

    fs.writeFileSync(metricFile, `export function computeMetrics(p: any) {\n  const n = p.labelIds.shape[0];\n  throw new TypeError('bad at ' + n);\n}\n`);
    const failed = rec.next();
    rt.continue();
    const s3 = await failed;
    assert.equal(s3.kind, 'metricError');
    if (s3.kind !== 'metricError') return;
    assert.equal(s3.typeName, 'TypeError');
    assert.deepEqual(s3.location, { file: metricFile, line: 3, name: 'computeMetrics', param: 'p' });
    assert.match(s3.traceback, /bad at 4/);
    assert.deepEqual(rt.stack().map((f) => [f.name, f.line, !!f.subtle]), [
      ['computeMetrics(p)', 3, false],
      ['Trainer.evaluate → computeMetrics(p)', undefined, true],
    ]);
    // Still stopped with the data: expressions work on the error stop.
    assert.ok(rt.evalPredAtStop());

    fs.writeFileSync(metricFile, `export function computeMetrics(p: any) {\n  return { n: p.labelIds.shape[0] };\n}\n`);
    const restarted = rec.next();
    assert.equal(await rt.restartFrame(), true);
    const s4 = await restarted;
    assert.deepEqual(s4, { kind: 'boundary', reason: 'restart', location: { file: metricFile, line: 1, name: 'computeMetrics', param: 'p' } });
    assert.equal(rec.metrics.at(-1)!.outcome.metrics.eval_n, 4);
    assert.deepEqual(rec.metrics.at(-1)!.diff, ['+ eval_n: 4', '- eval_accuracy: 0.6666666666666666']);
    await rt.shutdown();
    assert.equal(rec.events.at(-1), 'end');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('setBatchStops answers each function breakpoint; setBreakpoints verifies lines in the metric file only, once the launch names it', async () => {
  const rt = new EvalRuntime(localServices());
  assert.deepEqual(rt.setBatchStops(['batch 2', ' Batch 10 ', 'batch 0', 'compute_metrics', 'my_metric', 'nonsense']), [
    { verified: true, message: 'stop after batch 2', batch: 2 },
    { verified: true, message: 'stop after batch 10', batch: 10 },
    { verified: false, message: 'unknown function breakpoint "batch 0": use "batch N" to stop after batch N' },
    { verified: true, message: 'evalpred always stops at the compute_metrics boundary' },
    { verified: false, message: 'unknown function breakpoint "my_metric": use "batch N" to stop after batch N' },
    { verified: false, message: 'unknown function breakpoint "nonsense": use "batch N" to stop after batch N' },
  ]);
  // Before the launch: accepted optimistically.
  assert.deepEqual(rt.setBreakpoints('/elsewhere/x.py', [4]).map((a) => a.verified), [true]);
  assert.equal(rt.stack().length, 0, 'no frames before any stop');
  await assert.rejects(rt.evaluate('len(label_ids)', 0), /no EvalPrediction yet/);

  const dir = tempDir();
  try {
    const cache = cacheIn(dir);
    const metricFile = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metricFile, METRIC);
    const rec = record(rt);
    const stopped = rec.next();
    await rt.start(rt.parseLaunch({ cache, metrics: metricFile, function: 'computeMetrics' }));
    await stopped;
    assert.deepEqual(rt.setBreakpoints(metricFile, [3, 5]).map((a) => a.verified), [true, true]);
    const other = rt.setBreakpoints('/elsewhere/x.py', [4]);
    assert.deepEqual(other, [{ verified: false, message: `evalpred only stops in the metric file ${metricFile}` }]);
    // The configured function name is the boundary too, once the launch names it.
    assert.equal(rt.setBatchStops(['computeMetrics'])[0].verified, true);
    assert.equal(await rt.evaluate('len(label_ids)', 0), 4);
    await rt.shutdown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the user's parameter name (eval_preds) names the EvalPrediction in frames, expressions and lints", async () => {
  const dir = tempDir();
  try {
    const cache = cacheIn(dir);
    const metricFile = path.join(dir, 'metrics.py');
    // the common spelling of the HF blog posts, over two lines, and a -100 decode trap for the lints
    fs.writeFileSync(metricFile, 'import numpy as np\n\ndef compute_metrics(\n        eval_preds):\n    preds, labels = eval_preds\n    return {"n": tokenizer.batch_decode(eval_preds.label_ids)}\n');
    const { services: svc } = services(new Map());
    const rt = new EvalRuntime(svc);
    const rec = record(rt);
    const stopped = rec.next();
    await rt.start(rt.parseLaunch({ cache, metrics: metricFile }));
    await stopped;
    assert.equal(rt.paramName(), 'eval_preds');
    assert.deepEqual(rt.stack(), [{ name: 'compute_metrics(eval_preds)', file: metricFile, line: 3 }]);
    assert.equal(formatValue(await rt.evaluate('eval_preds.label_ids[0]', 0)), '1');
    assert.equal(formatValue(await rt.evaluate('eval_pred.label_ids[1]', 0)), '0', 'eval_pred still works');
    await assert.rejects(rt.evaluate('eval_preds.prediction', 0), (e: Error) => !/\beval_pred\b/.test(e.message) && /eval_preds/.test(e.message));
    const lints = await rt.lints();
    assert.ok(lints.length > 0, 'the -100 decode is found');
    for (const l of lints) assert.doesNotMatch(`${l.message} ${l.fix}`, /\beval_pred\b/, `${l.id} speaks of eval_pred`);
    await rt.shutdown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
