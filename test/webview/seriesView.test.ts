// The training-series view in a real headless Chromium: its own page and CSP, the real SeriesViewModel in
// Node rerunning a real metric file (Python, warm worker) on a series the Python helper captured
// (test/fixtures/series.ts). Expected values come from NumPy reading each step's cache files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../../src/core/paths';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { SeriesViewModel } from '../../src/core/view/seriesModel';
import type { SeriesViewState, ToSeriesView } from '../../src/shared/seriesProtocol';
import { FIXED_METRIC, captureSeries } from '../fixtures/series';
import { pythonWith } from '../helpers/python';
import { artifactsDir, buildSeriesPage, launchChromium, tempDir } from './harness';

let dir: string;
let series: string;
let python: string;
let browser: Browser;
let pageUrl: string;
let runners: MetricRunners;
/** NumPy's accuracy of every step, from the step's own .npy files (not through evalpred's readers). */
let expected: Record<string, number>;
let logged: Record<string, number>;

before(async () => {
  dir = tempDir();
  python = pythonWith(['numpy']);
  series = captureSeries(path.join(dir, 'run'), { python, root: packageRoot(), uneven: true });
  fs.writeFileSync(path.join(dir, 'fixed.py'), FIXED_METRIC);
  // Trips on the last step only, where fakeTrainer raised the true-class logits most.
  fs.writeFileSync(
    path.join(dir, 'picky.py'),
    'import numpy as np\n\n\ndef compute_metrics(eval_pred):\n    preds = np.argmax(eval_pred.predictions, axis=-1)\n    accuracy = float((preds == eval_pred.label_ids).mean())\n    if accuracy > 0.7:\n        raise ValueError("too good to be true")\n    return {"accuracy": accuracy, "error_rate": 1.0 - accuracy}\n',
  );
  const { execFileSync } = await import('node:child_process');
  expected = JSON.parse(
    execFileSync(python, [path.join(packageRoot(), 'test', 'helpers', 'series_accuracy.py'), series], { encoding: 'utf8' }),
  );
  logged = Object.fromEntries(JSON.parse(fs.readFileSync(path.join(series, 'series.json'), 'utf8')).steps.map((s: { dir: string; metrics: { accuracy: number } }) => [s.dir, s.metrics.accuracy]));
  pageUrl = await buildSeriesPage(dir);
  browser = await launchChromium();
  runners = new MetricRunners({ python });
});

after(async () => {
  await browser?.close();
  await runners?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  model: SeriesViewModel;
  sent: unknown[];
  errors: string[];
}

async function open(): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const sent: unknown[] = [];
  let chain = Promise.resolve();
  const model = new SeriesViewModel(series, (m: ToSeriesView) => {
    chain = chain.then(() => page.evaluate((msg) => window.postMessage(msg, '*'), m as never)).catch(() => {});
  }, runners, (m) => sent.push(m));
  await page.exposeFunction('__evalpredToHost', (m: unknown) => {
    if ((m as { type?: string }).type === 'ready') sent.push(m);
    model.receive(m);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { acquireVsCodeApi: () => unknown; __evalpredToHost: (m: unknown) => void };
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.__evalpredToHost(m), getState: () => null, setState: () => {} });
  });
  await page.goto(pageUrl);
  return { page, model, sent, errors };
}

/** What each chart shows: the points of both curves (step and value), errors and flags, by metric. */
async function charts(page: Page) {
  return page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll<HTMLElement>('.chart-box')).map((box) => {
        const pts = (cls: string) => Array.from(box.querySelectorAll(`.series.${cls} .point`)).map((c) => ({ dir: c.getAttribute('data-dir')!, value: Number(c.getAttribute('data-value')), cy: Number(c.getAttribute('cy')) }));
        const lines = (cls: string) => Array.from(box.querySelectorAll<SVGPathElement>(`.series.${cls} .line`)).map((l) => ({ d: l.getAttribute('d')!, stroke: getComputedStyle(l).stroke, width: l.getBoundingClientRect().width }));
        return [box.dataset.metric!, {
          logged: pts('logged'),
          recomputed: pts('recomputed'),
          loggedLines: lines('logged'),
          recomputedLines: lines('recomputed'),
          errors: Array.from(box.querySelectorAll('.error')).map((e) => e.getAttribute('data-dir')),
          flags: Array.from(box.querySelectorAll('.flag')).map((e) => e.getAttribute('data-dir')),
        }];
      }),
    ),
  );
}

async function waitForStatus(v: Opened, status: SeriesViewState['status']): Promise<void> {
  await v.page.waitForSelector(`.status.${status}`, { timeout: 30_000 }).catch((e) => {
    throw new Error(`${e}\nthe model's state: ${JSON.stringify(v.model.state).slice(0, 2000)}`);
  });
}

test('a captured series: the logged curve first, then logged and recomputed for each metric; a click on a step asks the host for it', async () => {
  const v = await open();
  try {
    await v.page.waitForSelector('.chart-box', { timeout: 10_000 });
    let c = await charts(v.page);
    assert.deepEqual(Object.keys(c), ['eval_accuracy', 'eval_error_rate'], 'one chart per metric');
    assert.deepEqual(c.eval_accuracy.logged.map((p) => [p.dir, p.value]), ['step-100', 'step-200', 'step-300'].map((d) => [d, logged[d]]));
    assert.deepEqual(c.eval_accuracy.recomputed, [], 'nothing recomputed before a metric file is chosen');
    assert.match(await v.page.locator('.metric-line').innerText(), /No metric file chosen/);

    v.model.setMetric({ file: path.join(dir, 'fixed.py'), python });
    await v.model.recompute();
    await waitForStatus(v, 'done');
    c = await charts(v.page);
    for (const [k, f] of [['eval_accuracy', (d: string) => expected[d]], ['eval_error_rate', (d: string) => 1 - expected[d]]] as const) {
      assert.deepEqual(c[k].recomputed.map((p) => [p.dir, p.value]), ['step-100', 'step-200', 'step-300'].map((d) => [d, f(d)]), k);
      assert.equal(c[k].loggedLines.length, 1);
      assert.equal(c[k].recomputedLines.length, 1);
      // Both curves are drawn, in two different colours, across the plot.
      assert.notEqual(c[k].loggedLines[0].stroke, c[k].recomputedLines[0].stroke);
      assert.ok(c[k].loggedLines[0].width > 300 && c[k].recomputedLines[0].width > 300, JSON.stringify(c[k].loggedLines));
      // Higher values sit higher (smaller cy) on the shared axis.
      const all = [...c[k].logged, ...c[k].recomputed].sort((a, b) => a.value - b.value);
      for (let i = 1; i < all.length; i++) assert.ok(all[i].cy <= all[i - 1].cy, `${k}: ${JSON.stringify(all)}`);
    }
    assert.notDeepEqual(c.eval_accuracy.logged.map((p) => p.value), c.eval_accuracy.recomputed.map((p) => p.value), 'the wrong metric was logged');
    // step 200 kept 30 of 40 rows: flagged on every chart and in the table.
    assert.deepEqual(c.eval_accuracy.flags, ['step-200']);
    assert.match(await v.page.locator('tr[data-dir="step-200"] .flag').innerText(), /30 samples \(step 100 had 40\): another dataset\?/);
    assert.match(await v.page.locator('.status').innerText(), /3 of 3 steps recomputed with fixed\.py/);
    await v.page.screenshot({ path: path.join(artifactsDir(), 'series-view.png') });

    // A click on step 300's recomputed point (the click zone over it takes it) names that step to the host.
    const box = (await v.page.locator('.chart-box[data-metric="eval_accuracy"] .recomputed .point[data-dir="step-300"]').boundingBox())!;
    await v.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await v.page.waitForFunction(() => true);
    assert.deepEqual(v.sent.filter((m) => (m as { type: string }).type === 'step'), [{ type: 'step', dir: 'step-300' }]);
    await v.page.locator('button.pick').click();
    await v.page.waitForTimeout(50);
    assert.ok(v.sent.some((m) => (m as { type: string }).type === 'pickMetric'));
    assert.deepEqual(v.errors, []);
  } finally {
    await v.page.close();
  }
});

test('a metric that fails on one step: that step shows the error at the user\'s line, the other steps still plot', async () => {
  const v = await open();
  try {
    v.model.setMetric({ file: path.join(dir, 'picky.py'), python });
    await v.model.recompute();
    await waitForStatus(v, 'failed');
    assert.ok(expected['step-300'] > 0.7 && expected['step-100'] <= 0.7 && expected['step-200'] <= 0.7, `the fixture trips picky.py at step 300 only: ${JSON.stringify(expected)}`);
    const c = await charts(v.page);
    assert.deepEqual(c.eval_accuracy.recomputed.map((p) => [p.dir, p.value]), [['step-100', expected['step-100']], ['step-200', expected['step-200']]]);
    assert.deepEqual(c.eval_accuracy.errors, ['step-300']);
    assert.equal(c.eval_accuracy.logged.length, 3, 'the logged curve keeps every step');
    const err = await v.page.locator('tr[data-dir="step-300"] .error').innerText();
    assert.match(err, /too good to be true/);
    const line = fs.readFileSync(path.join(dir, 'picky.py'), 'utf8').split('\n').findIndex((l) => l.includes('raise ValueError')) + 1;
    assert.match(err, new RegExp(`picky\\.py:${line}\\b`));
    assert.match(await v.page.locator('.status').innerText(), /2 of 3 steps recomputed with picky\.py .*1 failed/);
    await v.page.locator('tr[data-dir="step-300"] .error a.place').click();
    await v.page.waitForTimeout(50);
    assert.deepEqual(v.sent.filter((m) => (m as { type: string }).type === 'openFile'), [{ type: 'openFile', file: path.join(dir, 'picky.py'), line }]);
    await v.page.screenshot({ path: path.join(artifactsDir(), 'series-view-error.png') });
    assert.deepEqual(v.errors, []);
  } finally {
    await v.page.close();
  }
});
