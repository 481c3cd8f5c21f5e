// The series view's host model (src/core/view/seriesModel.ts) without a browser: what it sends before and after
// a rerun, which messages it forwards, and a save during a rerun (the last saved version is the one shown).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/core/paths';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { SeriesViewModel } from '../../src/core/view/seriesModel';
import type { SeriesViewState, ToSeriesView } from '../../src/shared/seriesProtocol';
import { FIXED_METRIC, captureSeries } from '../fixtures/series';
import { pythonWith } from '../helpers/python';
import { tempDir } from '../helpers/tempDir';

let dir: string;
let series: string;
let python: string;
let runners: MetricRunners;

before(() => {
  dir = tempDir();
  python = pythonWith(['numpy']);
  series = captureSeries(path.join(dir, 'run'), { python, root: packageRoot() });
  runners = new MetricRunners({ python });
});

after(async () => {
  await runners?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function recorder() {
  const states: SeriesViewState[] = [];
  return { states, post: (m: ToSeriesView) => states.push(structuredClone(m.state)) };
}

test('before a metric file: the logged values per step, nothing recomputed; ready sends the state; actions go to the host', () => {
  const r = recorder();
  const actions: unknown[] = [];
  const model = new SeriesViewModel(series, r.post, runners, (m) => actions.push(m));
  const index = JSON.parse(fs.readFileSync(path.join(series, 'series.json'), 'utf8'));
  assert.equal(r.states.length, 0, 'nothing is sent before the view is ready');
  model.receive({ type: 'ready' });
  const st = r.states[0];
  assert.equal(st.status, 'no-metric');
  assert.equal(st.xLabel, 'step');
  assert.equal(st.title, 'run');
  assert.deepEqual(st.steps.map((s) => [s.dir, s.x, s.label, s.numSamples]), index.steps.map((s: { dir: string; step: number }) => [s.dir, s.step, `step ${s.step}`, 40]));
  assert.deepEqual(st.steps.map((s) => s.logged?.eval_accuracy), index.steps.map((s: { metrics: { accuracy: number } }) => s.metrics.accuracy));
  assert.ok(st.steps.every((s) => s.recomputed === null && s.error === null));
  model.receive({ type: 'step', dir: 'step-200' });
  model.receive({ type: 'openFile', file: '/x.py', line: 3 });
  model.receive({ type: 'rerun' });
  model.receive({ type: 'nonsense' });
  model.receive(null);
  assert.deepEqual(actions, [{ type: 'step', dir: 'step-200' }, { type: 'openFile', file: '/x.py', line: 3 }, { type: 'rerun' }]);
  assert.equal(r.states.length, 1, 'a rerun asked by the view waits for the host (Workspace Trust), nothing ran');
});

test('a folder without series.json is refused with a message naming it', () => {
  assert.throws(() => new SeriesViewModel(dir, () => {}, runners), (e: Error) => e.name === 'EvalpredError' && /is not an evalpred series: it has no series\.json/.test(e.message));
});

test('a save while the series reruns: one more run follows, and the last saved version is the one shown', async () => {
  const r = recorder();
  const model = new SeriesViewModel(series, r.post, runners);
  const file = path.join(dir, 'metric.py');
  fs.writeFileSync(file, FIXED_METRIC);
  model.setMetric({ file, python });
  const first = model.recompute();
  const once = await (async () => {
    await first;
    return r.states.at(-1)!;
  })();
  assert.equal(once.status, 'done');
  const acc = once.steps.map((s) => s.recomputed!.eval_accuracy);
  r.states.length = 0;
  const a = model.recompute();
  // The edit lands while the rerun is under way, and its save asks again.
  fs.writeFileSync(file, FIXED_METRIC + '\ncompute_metrics = (lambda f: lambda ep: {k: v / 2 for k, v in f(ep).items()})(compute_metrics)\n');
  const b = model.recompute();
  assert.equal(a, b, 'the second call joins the running rerun');
  await b;
  assert.deepEqual(r.states.map((s) => s.status), ['running', 'done', 'running', 'done']);
  assert.deepEqual(r.states.at(-1)!.steps.map((s) => s.recomputed!.eval_accuracy), acc.map((v) => v / 2));
  assert.match(r.states.at(-1)!.message, /^3 of 3 steps recomputed with metric\.py in \d+ ms\.$/);
});
