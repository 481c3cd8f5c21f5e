// The prediction view in a real headless Chromium, driven by the real view model over a cache that the real
// evaluation loop wrote for a fixture workspace. Expected values come from NumPy reading that cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { readCache, writeCache } from '../../src/core/cache/store';
import type { Evaluation } from '../../src/core/evaluate';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { PredictionViewModel, ViewInput, viewInputFor } from '../../src/core/view/viewModel';
import { runPython } from '../helpers/python';
import { seqClsWorkspace, writeJsonl } from '../fixtures/workspace';
import { ViewSession, artifactsDir, buildViewPage, launchChromium, openView, settled, tempDir, visibleRows } from './harness';

const N = 20;
const XSS = 'good movie <img src=x onerror="window.__pwned=1"> <b>not bold</b> & fun';

interface Expected {
  arrays: Record<string, { dtype: string; shape: number[] }>;
  names: string[];
  pred: number[];
  gold: number[];
  conf: number[];
  loss: number[];
  logits: number[][];
}

let dir: string;
let browser: Browser;
let pageUrl: string;
let evaluation: Evaluation;
let texts: string[];
let exp: Expected;
let input: ViewInput;

before(async () => {
  dir = tempDir();
  const ws = seqClsWorkspace(dir, { n: N, numLabels: 3 });
  texts = [...ws.texts];
  texts[3] = XSS;
  writeJsonl(ws.dataset, texts.map((t, i) => ({ sentence: t, label: i % 3 })));
  const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 8, includeForMetrics: ['inputs'] });
  const { evalPred, ...loop } = await runLoop(settings);
  const cacheDir = path.join(dir, 'cache');
  writeCache(cacheDir, evalPred, {
    numSamples: loop.numSamples,
    key: 'view-test',
    producer: { model: { path: ws.modelDir }, dataset: { path: ws.dataset, split: null }, settings },
    extra: { loop },
  });
  const read = readCache(cacheDir);
  evaluation = { cacheDir, fromCache: true, manifest: read.manifest, evalPred: read.evalPred, loop };
  // NumPy from the cache files alone: shapes, dtypes, argmax, softmax confidence, cross-entropy.
  exp = JSON.parse(
    runPython(
      `import json, numpy as np\n` +
        `m=json.load(open('manifest.json'))\n` +
        `arrays={k: (lambda a: {'dtype': str(a.dtype), 'shape': list(a.shape)})(np.load(v['npy'])) for k,v in m['eval_prediction'].items() if v}\n` +
        `cfg=json.load(open(${JSON.stringify(path.join(ws.modelDir, 'config.json'))}))\n` +
        `x=np.load(m['eval_prediction']['predictions']['npy']).astype(np.float64); y=np.load(m['eval_prediction']['label_ids']['npy'])\n` +
        `p=np.exp(x-x.max(1,keepdims=True)); p/=p.sum(1,keepdims=True)\n` +
        `names=[cfg['id2label'][str(k)] for k in range(x.shape[1])]\n` +
        `print(json.dumps({'arrays': arrays, 'names': names, 'pred': x.argmax(1).tolist(), 'gold': y.tolist(), 'conf': p.max(1).tolist(), ` +
        `'loss': (-np.log(p[np.arange(len(y)), y])).tolist(), 'logits': x.tolist()}))`,
      ['numpy'],
      cacheDir,
    ),
  );
  // The dataset and tokenizer are found through the manifest's producer, as in the extension.
  input = await viewInputFor(evaluation, { title: 'fixture run' });
  pageUrl = await buildViewPage(dir);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(state?: unknown): Promise<ViewSession> {
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post), { state });
  await settled(v.page);
  return v;
}

const shot = (v: ViewSession, name: string) => v.page.screenshot({ path: path.join(artifactsDir(), name), fullPage: true });
const indices = async (v: ViewSession) => (await visibleRows(v.page)).map((r) => Number(r.index));

test('cards show every array of the EvalPrediction with the shape and dtype NumPy sees', async () => {
  const v = await open();
  try {
    await v.page.waitForSelector('.card');
    const cards = await v.page.$$eval('.card', (cs) => cs.map((c) => ({ path: (c as HTMLElement).dataset.path, type: c.querySelector('.card-type')!.textContent })));
    const want = Object.entries(exp.arrays).map(([k, a]) => ({ path: k, type: `${a.dtype}[${a.shape.join(', ')}]` }));
    assert.deepEqual(cards.sort((a, b) => a.path!.localeCompare(b.path!)), want.sort((a, b) => a.path.localeCompare(b.path)));
    assert.equal(exp.arrays.predictions.shape[0], N);
    // -100 padding in inputs? (the loop pads input_ids with the pad id, so none); the card counts what NumPy counts.
    const hists = await v.page.$$eval('.card .hist', (hs) => hs.map((h) => h.children.length));
    assert.ok(hists.every((n) => n === 20), `20 histogram bins per card, got ${hists}`);
    await shot(v, 'view-overview.png');
  } finally {
    await v.close();
  }
});

test('the table shows the dataset text, argmax label names, gold labels, confidence and loss', async () => {
  const v = await open();
  try {
    const rows = await visibleRows(v.page);
    assert.equal(rows.length, N);
    rows.forEach((r, i) => {
      assert.equal(r.index, String(i));
      assert.equal(r.text, texts[i]);
      assert.equal(r.prediction, exp.names[exp.pred[i]]);
      assert.equal(r.label, exp.names[exp.gold[i]]);
      assert.equal(r.correct, exp.pred[i] === exp.gold[i] ? '✓' : '✗');
      assert.equal(r.confidence, exp.conf[i].toFixed(3));
    });
    const losses = await v.page.$$eval('.row:not([hidden]) .c6', (cs) => cs.map((c) => c.textContent));
    assert.deepEqual(losses.slice(0, N), exp.loss.map((l) => l.toFixed(3)));
  } finally {
    await v.close();
  }
});

test('dataset text holding HTML renders as text: no element is created and no handler runs', async () => {
  const v = await open();
  try {
    assert.equal(await v.page.locator('img').count(), 0);
    assert.equal(await v.page.locator('.row b').count(), 0);
    const cell = v.page.locator('.row[aria-rowindex="4"] .c1');
    assert.equal(await cell.textContent(), XSS);
    assert.equal(await cell.evaluate((c) => c.childElementCount), 0);
    // open the detail pane too: the text is shown there as well
    await v.page.locator('.row[aria-rowindex="4"]').click();
    await v.page.waitForSelector('.detail:not([hidden]) .detail-fields');
    assert.equal(await v.page.locator('.detail-fields dd').first().textContent(), XSS);
    assert.equal(await v.page.locator('img').count(), 0);
    assert.equal(await v.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  } finally {
    await v.close();
  }
});

test('"Wrong only" shows exactly the wrong rows, and the filter survives a reload through getState', async () => {
  const v = await open();
  const wrong = exp.pred.flatMap((p, i) => (p !== exp.gold[i] ? [i] : []));
  assert.ok(wrong.length > 0 && wrong.length < N, `the fixture model should get some rows wrong and some right (${wrong.length} wrong)`);
  try {
    await v.page.locator('#wrongOnly').check();
    await settled(v.page);
    assert.deepEqual(await indices(v), wrong);
    assert.equal(await v.page.locator('.count').textContent(), `${wrong.length} of ${N} samples`);
    await shot(v, 'view-wrong-only.png');
    const state = (await v.state()) as { query: { filter: { wrongOnly?: boolean } } };
    assert.equal(state.query.filter.wrongOnly, true);
    const again = await open(state);
    try {
      assert.equal(await again.page.locator('#wrongOnly').isChecked(), true);
      assert.deepEqual(await indices(again), wrong);
    } finally {
      await again.close();
    }
  } finally {
    await v.close();
  }
});

test('a confusion-matrix cell filters the table to its gold/predicted pair; clicking it again clears it', async () => {
  const v = await open();
  try {
    await v.page.waitForSelector('table.cm');
    const L = exp.names.length;
    const counts = Array.from({ length: L }, () => new Array<number>(L).fill(0));
    exp.gold.forEach((g, i) => counts[g][exp.pred[i]]++);
    const shown = await v.page.$$eval('table.cm tr', (trs) => trs.slice(1).map((tr) => Array.from(tr.querySelectorAll('button')).map((b) => Number(b.textContent))));
    assert.deepEqual(shown, counts);
    // the largest off-diagonal cell
    let best: [number, number] = [0, 1];
    for (let g = 0; g < L; g++) for (let p = 0; p < L; p++) if (g !== p && counts[g][p] > counts[best[0]][best[1]]) best = [g, p];
    const [g, p] = best;
    const cell = v.page.locator(`button.cm-cell[data-gold="${exp.names[g]}"][data-pred="${exp.names[p]}"]`);
    await cell.click();
    await settled(v.page);
    const want = exp.gold.flatMap((gi, i) => (gi === g && exp.pred[i] === p ? [i] : []));
    assert.deepEqual(await indices(v), want);
    assert.equal(await v.page.locator('#goldFilter').inputValue(), exp.names[g]);
    assert.equal(await v.page.locator('#predFilter').inputValue(), exp.names[p]);
    await shot(v, 'view-confusion-filter.png');
    await cell.click();
    await settled(v.page);
    assert.equal((await indices(v)).length, N);
  } finally {
    await v.close();
  }
});

test('keyboard: arrows move the selection, Enter opens the raw logits and ids, focus is visible', async () => {
  const v = await open();
  try {
    await v.page.locator('.viewport').focus();
    for (let k = 0; k < 3; k++) await v.page.keyboard.press('ArrowDown');
    await v.page.keyboard.press('ArrowUp');
    const sel = (await visibleRows(v.page)).filter((r) => r.selected).map((r) => r.pos);
    assert.deepEqual(sel, [2]);
    assert.equal(await v.page.evaluate(() => document.activeElement?.classList.contains('viewport')), true);
    const outline = await v.page.$eval('.row.selected', (r) => getComputedStyle(r).outlineStyle);
    assert.notEqual(outline, 'none', 'the selected row of the focused table has a visible outline');
    await v.page.keyboard.press('Enter');
    await v.page.waitForSelector('.detail:not([hidden]) .raw');
    assert.equal(await v.page.locator('.detail h2').textContent(), 'Sample 2');
    const raws = await v.page.$$eval('.raw', (rs) => rs.map((r) => ({ name: r.querySelector('.raw-name')!.textContent, values: r.querySelector('.raw-values')!.textContent })));
    const pred = raws.find((r) => r.name!.startsWith('predictions[2]'))!;
    assert.ok(pred, `raw arrays shown: ${raws.map((r) => r.name)}`);
    assert.match(pred.name!, /float32\[3\]/);
    const got = pred.values!.trim().split(/\s+/).map(Number);
    got.forEach((x, k) => assert.ok(Math.abs(x - exp.logits[2][k]) <= 1e-3 * Math.max(1, Math.abs(x)), `logit ${k}: ${x} vs ${exp.logits[2][k]}`));
    const lab = raws.find((r) => r.name!.startsWith('label_ids[2]'))!;
    assert.equal(lab.values!.trim(), String(exp.gold[2]));
    assert.ok(raws.some((r) => r.name!.startsWith('inputs[2]')), 'the input ids are shown');
    await shot(v, 'view-detail.png');
    await v.page.keyboard.press('Escape');
    assert.equal(await v.page.locator('.detail').isHidden(), true);
  } finally {
    await v.close();
  }
});

test('metrics pushed by the host appear with their change from the previous run', async () => {
  const v = await open();
  try {
    v.model.addMetrics({ eval_accuracy: 0.5, eval_f1: 0.4 });
    v.model.addMetrics({ eval_accuracy: 0.75, eval_f1: 0.4 });
    await v.page.waitForSelector('.metrics-table');
    const rows = await v.page.$$eval('.metrics-table tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    assert.deepEqual(rows, [
      ['eval_accuracy', '0.75', '+0.25'],
      ['eval_f1', '0.4', '±0'],
    ]);
  } finally {
    await v.close();
  }
});
