// The compare view in headless Chromium: two caches the real loop wrote for two fixture models (different
// weights) on one dataset, compared by src/core/compare and shown by the real CompareViewModel. Which samples
// were fixed or broken and each run's accuracy come from NumPy reading the two caches; the word-level diff is
// checked on a hand-written pair of predictions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { writeCache } from '../../src/core/cache/store';
import { Comparison, compareCaches } from '../../src/core/compare/compare';
import { CompareViewModel } from '../../src/core/compare/compareModel';
import { runLoop } from '../../src/core/loop/driver';
import { RunSettings, withDefaults } from '../../src/core/loop/settings';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import type { ToCompareView } from '../../src/shared/compareProtocol';
import { runPython } from '../helpers/python';
import { seqClsWorkspace } from '../fixtures/workspace';
import { artifactsDir, buildViewPage, launchChromium, openView, tempDir } from './harness';

const N = 24;
let dir: string;
let browser: Browser;
let pageUrl: string;

async function cache(name: string, settings: RunSettings): Promise<string> {
  const { evalPred, ...loop } = await runLoop(settings);
  const cacheDir = path.join(dir, name);
  writeCache(cacheDir, evalPred, {
    numSamples: loop.numSamples,
    key: name,
    producer: { model: { path: settings.model }, dataset: { path: settings.dataset, split: null }, settings },
    extra: { loop },
  });
  return cacheDir;
}

before(async () => {
  dir = tempDir();
  pageUrl = await buildViewPage(dir, 'compareView');
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(c: Comparison, state?: unknown) {
  return openView<CompareViewModel, ToCompareView>(browser, pageUrl, (post) => new CompareViewModel(c, post), { ready: '.compare-metrics', state, height: 1000 });
}

const shownIndices = (page: Page) => page.$$eval('.changed-list .changed-row', (rs) => rs.map((r) => Number((r as HTMLElement).dataset.index)));

async function waitCount(page: Page): Promise<string> {
  await page.waitForFunction(() => !/loading/.test(document.querySelector('.changed .count')?.textContent ?? 'loading'));
  return page.locator('.changed .count').innerText();
}

test('two checkpoints side by side: metrics with the difference, fixed and broken samples filterable, each with its diff', async () => {
  const a = seqClsWorkspace(path.join(dir, 'a'), { n: N, numLabels: 3, seed: 1 });
  const b = seqClsWorkspace(path.join(dir, 'b'), { n: N, numLabels: 3, seed: 7 }); // the same rows, other weights
  const cacheA = await cache('cacheA', withDefaults({ model: a.modelDir, dataset: a.dataset, batchSize: 8 }));
  const cacheB = await cache('cacheB', withDefaults({ model: b.modelDir, dataset: a.dataset, batchSize: 8 }));
  const truth = JSON.parse(
    runPython(
      `import json, numpy as np\n` +
        `pa=np.load('cacheA/predictions.npy').argmax(-1); pb=np.load('cacheB/predictions.npy').argmax(-1); y=np.load('cacheA/label_ids.npy')\n` +
        `ra=pa==y; rb=pb==y\n` +
        `print(json.dumps({'fixed': np.where(~ra & rb)[0].tolist(), 'broken': np.where(ra & ~rb)[0].tolist(), 'right_a': int(ra.sum()), 'right_b': int(rb.sum()), 'pa': pa.tolist(), 'pb': pb.tolist()}))`,
      ['numpy'],
      dir,
    ),
  );
  assert.ok(truth.fixed.length > 0 && truth.broken.length > 0, `the fixture models should fix some samples and break others: ${JSON.stringify(truth)}`);
  const names = JSON.parse(fs.readFileSync(path.join(a.modelDir, 'config.json'), 'utf8')).id2label as Record<string, string>;
  const runners = new MetricRunners();
  let c: Comparison;
  try {
    c = await compareCaches(runners, cacheA, cacheB);
  } finally {
    await runners.close();
  }
  const v = await open(c);
  try {
    const acc = await v.page.$$eval('.compare-metrics tr[data-key="eval_accuracy"] td', (tds) => tds.map((t) => t.textContent));
    const [va, vb, d] = acc.map((x) => Number(String(x).replace('−', '-').replace('±', '')));
    assert.ok(Math.abs(va - truth.right_a / N) < 1e-3 && Math.abs(vb - truth.right_b / N) < 1e-3, `accuracy A, B shown: ${acc}`);
    assert.ok(Math.abs(d - (truth.right_b - truth.right_a) / N) < 1e-3, `the difference B - A: ${acc}`);
    assert.match(await v.page.locator('.correct-line').innerText(), new RegExp(`A ${truth.right_a} of ${N} · B ${truth.right_b} of ${N}`));
    assert.equal(await v.page.locator('.fixed-count').innerText(), `fixed (wrong in A, right in B): ${truth.fixed.length}`);
    assert.equal(await v.page.locator('.broken-count').innerText(), `broken (right in A, wrong in B): ${truth.broken.length}`);
    const all = [...truth.fixed, ...truth.broken].sort((x: number, y: number) => x - y);
    assert.equal(await waitCount(v.page), `${all.length} sample${all.length === 1 ? '' : 's'}`);
    assert.deepEqual(await shownIndices(v.page), all);
    for (const i of all) {
      const cells = await v.page.$$eval(`.changed-row[data-index="${i}"] .cell`, (cs) => cs.map((x) => x.textContent));
      assert.deepEqual(cells, [String(i), truth.fixed.includes(i) ? 'fixed' : 'broken', a.texts[i], names[String(i % 3)], names[String(truth.pa[i])], names[String(truth.pb[i])]]);
    }
    await v.page.screenshot({ path: path.join(artifactsDir(), 'compare-view.png'), fullPage: true });

    await v.page.selectOption('#changeFilter', 'fixed');
    await waitCount(v.page);
    assert.deepEqual(await shownIndices(v.page), truth.fixed);
    await v.page.selectOption('#changeFilter', 'broken');
    await waitCount(v.page);
    assert.deepEqual(await shownIndices(v.page), truth.broken);
    // the filter survives a reload through the webview state
    const state = await v.state();
    const again = await open(c, state);
    try {
      await waitCount(again.page);
      assert.equal(await again.page.locator('#changeFilter').inputValue(), 'broken');
      assert.deepEqual(await shownIndices(again.page), truth.broken);
    } finally {
      await again.close();
    }
    // a search for a sample's own text leaves that sample (and any other holding the text)
    const k = truth.broken[0];
    await v.page.fill('#changedSearch', a.texts[k]);
    const want = truth.broken.filter((i: number) => a.texts[i].toLowerCase().includes(a.texts[k].toLowerCase()));
    // the box debounces: wait for the list to change, then compare
    await v.page
      .waitForFunction((n) => document.querySelectorAll('.changed-list .changed-row').length === n, want.length, { timeout: 5000 })
      .catch(() => {});
    await waitCount(v.page);
    assert.deepEqual(await shownIndices(v.page), want);
    assert.equal(await v.page.locator('.changed .count').innerText(), `${want.length} sample${want.length === 1 ? '' : 's'}`);
    await v.page.locator(`.changed-row[data-index="${k}"]`).click();
    await v.page.waitForSelector('.sample-diff:not([hidden])');
    assert.equal(await v.page.locator('.sample-diff h2').innerText(), `Sample ${k} · broken`);
    assert.equal(await v.page.locator('.sample-diff dd.pred-a').innerText(), names[String(truth.pa[k])]);
    assert.equal(await v.page.locator('.sample-diff dd.pred-b').innerText(), names[String(truth.pb[k])]);
  } finally {
    await v.close();
  }
});

test('the per-sample diff marks the words each run\'s prediction has that the other lacks', async () => {
  const c: Comparison = {
    a: '/runs/epoch-1',
    b: '/runs/epoch-2',
    task: 'seq2seq-lm',
    numSamples: 3,
    metrics: [
      { key: 'eval_rouge1', a: 0.5, b: 0.75, delta: 0.25 },
      { key: 'eval_loss', a: 1.5, b: 2, delta: 0.5 },
    ],
    correct: { a: 1, b: 1, known: 3 },
    changed: [
      { index: 0, change: 'fixed', text: 'what sat?', label: 'the cat sat down', prediction_a: 'the black cat sat', prediction_b: 'the cat sat down', correct_a: false, correct_b: true, loss_a: 2.5, loss_b: 0.25 },
      // num_return_sequences 2 in A, 3 in B: each run's sequences, best first (the prediction is the first)
      { index: 2, change: 'broken', text: 'who ran <b>fast</b>?', label: 'a dog', prediction_a: 'a dog', prediction_b: 'a big dog', correct_a: true, correct_b: false, sequences_a: ['a dog', 'the red dog'], sequences_b: ['a big dog', 'a dog', 'dog'] },
    ],
    notes: ['A: a note that is shown'],
  };
  const v = await open(c);
  try {
    assert.equal(await v.page.locator('header .summary').innerText(), 'seq2seq generation · 3 samples');
    assert.deepEqual(await v.page.$$eval('.compare-metrics tr[data-key="eval_loss"] td', (t) => t.map((x) => x.className.trim())), ['value', 'value', 'delta worse'], 'a higher loss is worse');
    assert.deepEqual(await v.page.$$eval('.compare-metrics tr[data-key="eval_rouge1"] td', (t) => t.map((x) => x.className.trim())), ['value', 'value', 'delta better']);
    assert.equal(await waitCount(v.page), '2 samples');
    await v.page.locator('.changed-row[data-index="0"]').click();
    await v.page.waitForSelector('.sample-diff:not([hidden])');
    assert.deepEqual(await v.page.locator('.sample-diff dd.pred-a mark').allInnerTexts(), ['black']);
    assert.deepEqual(await v.page.locator('.sample-diff dd.pred-b mark').allInnerTexts(), ['down']);
    assert.equal(await v.page.locator('.sample-diff dd.pred-a').innerText(), 'the black cat sat');
    await v.page.screenshot({ path: path.join(artifactsDir(), 'compare-view-diff.png'), fullPage: true });
    await v.page.locator('.changed-row[data-index="2"]').click();
    await v.page.waitForFunction(() => document.querySelector('.sample-diff h2')?.textContent === 'Sample 2 · broken');
    assert.deepEqual(await v.page.locator('.sample-diff dd.pred-a mark').allInnerTexts(), []);
    assert.deepEqual(await v.page.locator('.sample-diff dd.pred-b mark').allInnerTexts(), ['big']);
    assert.deepEqual(await v.page.locator('.sample-diff dd.seqs-a li').allInnerTexts(), ['a dog', 'the red dog']);
    assert.deepEqual(await v.page.locator('.sample-diff dd.seqs-b li').allInnerTexts(), ['a big dog', 'a dog', 'dog']);
    assert.deepEqual(await v.page.locator('.sample-diff dd.seqs-a li mark').allInnerTexts(), ['the', 'red'], 'the words not in the label');
    assert.equal(await v.page.locator('.changed-row[data-index="2"] .c-pred-a').getAttribute('title'), '#1 a dog\n#2 the red dog');
    await v.page.screenshot({ path: path.join(artifactsDir(), 'compare-view-sequences.png'), fullPage: true });
    // the search matches a run's lower-ranked sequences too
    await v.page.fill('#changedSearch', 'red dog');
    await v.page.waitForFunction(() => document.querySelectorAll('.changed-list .changed-row').length === 1);
    await waitCount(v.page);
    assert.equal(await v.page.locator('.changed-list .changed-row').first().getAttribute('data-index'), '2');
    await v.page.fill('#changedSearch', '');
    await v.page.waitForFunction(() => document.querySelectorAll('.changed-list .changed-row').length === 2);
    assert.equal(await v.page.locator('b').count(), 0, 'dataset text is text, never markup');
    assert.match(await v.page.locator('.notes').innerText(), /a note that is shown/);
  } finally {
    await v.close();
  }
});

test('caches of different sample counts are refused with the reason', async () => {
  const w = seqClsWorkspace(path.join(dir, 'c'), { n: 10, numLabels: 2, seed: 3 });
  const full = await cache('full', withDefaults({ model: w.modelDir, dataset: w.dataset, batchSize: 4 }));
  const part = await cache('part', withDefaults({ model: w.modelDir, dataset: w.dataset, batchSize: 4, maxSamples: 6 }));
  const runners = new MetricRunners();
  try {
    await assert.rejects(compareCaches(runners, full, part), (e: Error) => /\(10 samples\) with .*part \(6 samples\): the caches must hold the same samples/.test(e.message));
  } finally {
    await runners.close();
  }
});
