// Table tools in headless Chromium on a cache the real loop wrote: header-click sort on the per-sample metric,
// copy cell / row through the host's clipboard, export of the filtered table as CSV (read back by Python's csv
// module) and JSON Lines, and hiding a column (kept across a reload, left out of the export). Expected values
// come from NumPy reading the cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { readCache, writeCache } from '../../src/core/cache/store';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { PredictionViewModel, ViewHostServices, ViewInput, viewInputFor } from '../../src/core/view/viewModel';
import { runPython } from '../helpers/python';
import { seqClsWorkspace } from '../fixtures/workspace';
import { ViewSession, artifactsDir, buildViewPage, launchChromium, openView, settled, tempDir, visibleRows } from './harness';

const N = 20;
let dir: string;
let browser: Browser;
let pageUrl: string;
let input: ViewInput;
let texts: string[];
let exp: { names: string[]; pred: number[]; gold: number[]; loss: number[] };

before(async () => {
  dir = tempDir();
  const ws = seqClsWorkspace(path.join(dir, 'ws'), { n: N, numLabels: 3 });
  texts = ws.texts;
  const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 8 });
  const { evalPred, ...loop } = await runLoop(settings);
  const cacheDir = path.join(dir, 'cache');
  writeCache(cacheDir, evalPred, { numSamples: loop.numSamples, key: 'tools', producer: { model: { path: ws.modelDir }, dataset: { path: ws.dataset, split: null }, settings }, extra: { loop } });
  const read = readCache(cacheDir);
  input = await viewInputFor({ cacheDir, fromCache: true, manifest: read.manifest, evalPred: read.evalPred, loop }, { title: 'tools run' });
  exp = JSON.parse(
    runPython(
      `import json, numpy as np\n` +
        `cfg=json.load(open(${JSON.stringify(path.join(ws.modelDir, 'config.json'))}))\n` +
        `x=np.load('predictions.npy').astype(np.float64); y=np.load('label_ids.npy')\n` +
        `p=np.exp(x-x.max(1,keepdims=True)); p/=p.sum(1,keepdims=True)\n` +
        `print(json.dumps({'names': [cfg['id2label'][str(k)] for k in range(x.shape[1])], 'pred': x.argmax(1).tolist(), 'gold': y.tolist(), 'loss': (-np.log(p[np.arange(len(y)), y])).tolist()}))`,
      ['numpy'],
      cacheDir,
    ),
  );
  pageUrl = await buildViewPage(dir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Host {
  clipboard: string[];
  exports: { file: string; name: string }[];
}

async function open(state?: unknown): Promise<ViewSession & { host: Host }> {
  const host: Host = { clipboard: [], exports: [] };
  const services: ViewHostServices = {
    writeClipboard: (t) => void host.clipboard.push(t),
    saveExport: async (name, _format, lines) => {
      const file = path.join(dir, `${host.exports.length}-${name}`);
      fs.writeFileSync(file, [...lines].join(''));
      host.exports.push({ file, name });
      return file;
    },
  };
  // .c0 (the index) is never hidden in these tests; the default waits for the text column.
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post, services), { state, ready: '.row:not(.loading) .c0' });
  await settled(v.page);
  return Object.assign(v, { host });
}

const right = (i: number) => exp.pred[i] === exp.gold[i];
const status = (page: Page) => page.locator('.toolbar .status').innerText();

test('the per-sample accuracy column: 1 for a right sample, 0 for a wrong one; a header click sorts on it', async () => {
  const v = await open();
  try {
    const header = v.page.locator('.thead .cell[data-column="score:accuracy"]');
    assert.equal(await header.innerText(), 'Accuracy');
    const shown = await v.page.$$eval('.row:not([hidden]) .c7', (cs) => cs.map((c) => c.textContent));
    assert.deepEqual(shown.slice(0, N), exp.pred.map((_, i) => (right(i) ? '1.000' : '0.000')));
    await header.click();
    await settled(v.page);
    assert.equal(await header.getAttribute('aria-sort'), 'ascending');
    const wrongFirst = exp.pred.map((_, i) => i).sort((a, b) => Number(right(a)) - Number(right(b)) || a - b);
    assert.deepEqual((await visibleRows(v.page)).map((r) => Number(r.index)), wrongFirst);
    await header.click();
    await settled(v.page);
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    assert.equal(await v.page.locator('#sort').inputValue(), 'score:accuracy:desc', 'the sort select shows the metric sort too');
  } finally {
    await v.close();
  }
});

test('copy cell and copy row go through the host clipboard; Ctrl+C copies the selected row', async () => {
  const v = await open();
  try {
    await v.page.locator('.row[aria-rowindex="3"] .c1').click({ button: 'right' });
    await v.page.waitForSelector('.context-menu:not([hidden])');
    await v.page.locator('.context-menu [data-copy="cell"]').click();
    await v.page.waitForFunction(() => /Copied/.test(document.querySelector('.toolbar .status')?.textContent ?? ''));
    assert.deepEqual(v.host.clipboard, [texts[2]]);
    assert.equal(await status(v.page), 'Copied a cell of sample 2');
    await v.page.locator('.row[aria-rowindex="5"] .c2').click({ button: 'right' });
    await v.page.locator('.context-menu [data-copy="row"]').click();
    await v.page.waitForFunction(() => /sample 4/.test(document.querySelector('.toolbar .status')?.textContent ?? ''));
    const i = 4;
    assert.equal(v.host.clipboard[1], [i, texts[i], exp.names[exp.pred[i]], exp.names[exp.gold[i]], String(right(i)), v.host.clipboard[1].split('\t')[5], v.host.clipboard[1].split('\t')[6], right(i) ? '1' : '0'].join('\t'));
    assert.ok(Math.abs(Number(v.host.clipboard[1].split('\t')[6]) - exp.loss[i]) < 1e-5, 'the loss at full precision');
    assert.equal(await v.page.locator('.context-menu').isHidden(), true);
    await v.page.locator('.viewport').focus();
    await v.page.keyboard.press('ArrowDown');
    await v.page.keyboard.press('Control+c');
    await v.page.waitForFunction(() => /sample 5/.test(document.querySelector('.toolbar .status')?.textContent ?? ''));
    assert.equal(v.host.clipboard[2].split('\t')[0], '5');
  } finally {
    await v.close();
  }
});

test('export of the filtered table: CSV that Python reads back and JSON Lines, the wrong rows only, in the sort order', async () => {
  const v = await open();
  try {
    await v.page.check('#wrongOnly');
    await settled(v.page);
    await v.page.locator('.thead .cell').nth(6).click(); // loss, worst first
    await settled(v.page);
    await v.page.getByRole('button', { name: 'Export CSV' }).click();
    await v.page.waitForFunction(() => /Exported/.test(document.querySelector('.toolbar .status')?.textContent ?? ''));
    const wrong = exp.pred.map((_, i) => i).filter((i) => !right(i)).sort((a, b) => exp.loss[b] - exp.loss[a]);
    assert.ok(wrong.length > 1, 'the fixture gets several samples wrong');
    assert.equal(await status(v.page), `Exported ${wrong.length} rows to ${v.host.exports[0].file}`);
    assert.equal(v.host.exports[0].name, 'tools_run-filtered.csv');
    const rows = JSON.parse(runPython(`import csv, json\nprint(json.dumps(list(csv.reader(open(${JSON.stringify(v.host.exports[0].file)}, newline='')))))`, []));
    assert.deepEqual(rows[0], ['index', 'text', 'prediction', 'label', 'correct', 'confidence', 'loss', 'accuracy']);
    assert.deepEqual(rows.slice(1).map((r: string[]) => Number(r[0])), wrong);
    for (const r of rows.slice(1)) {
      const i = Number(r[0]);
      assert.deepEqual([r[1], r[2], r[3], r[4], r[7]], [texts[i], exp.names[exp.pred[i]], exp.names[exp.gold[i]], 'false', '0']);
      assert.ok(Math.abs(Number(r[6]) - exp.loss[i]) < 1e-5, `loss of ${i}`);
    }
    await v.page.getByRole('button', { name: 'Export JSONL' }).click();
    await v.page.waitForFunction(() => document.querySelector('.toolbar .status')?.textContent?.includes('.jsonl'));
    const lines = fs.readFileSync(v.host.exports[1].file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.index), wrong);
    assert.deepEqual(Object.keys(lines[0]), ['index', 'text', 'prediction', 'label', 'correct', 'confidence', 'loss', 'accuracy']);
  } finally {
    await v.close();
  }
});

test('hiding a column hides its header and cells, survives a reload through the webview state, and leaves the export', async () => {
  const v = await open();
  try {
    await v.page.locator('#columnsButton').click();
    await v.page.locator('#columnsMenu input[data-column="text"]').uncheck();
    await v.page.locator('#columnsMenu input[data-column="confidence"]').uncheck();
    assert.equal(await v.page.locator('.thead .cell[data-column="text"]').isHidden(), true);
    assert.equal(await v.page.locator('.row[aria-rowindex="1"] .c1').isHidden(), true);
    assert.equal(await v.page.locator('.row[aria-rowindex="1"] .c2').isVisible(), true);
    // the visible cells line up under their headers (the table has a 1px border the header row lacks)
    const headX = await v.page.locator('.thead .cell[data-column="prediction"]').boundingBox();
    const cellX = await v.page.locator('.row[aria-rowindex="1"] .c2').boundingBox();
    assert.ok(headX && cellX && Math.abs(headX.x - cellX.x) < 2, `prediction header at ${headX?.x}, its cells at ${cellX?.x}`);
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-table-tools.png'), fullPage: true });
    const state = (await v.state()) as { hidden: string[] };
    assert.deepEqual(state.hidden.sort(), ['confidence', 'text']);
    const again = await open(state);
    try {
      assert.equal(await again.page.locator('.thead .cell[data-column="text"]').isHidden(), true);
      assert.equal(await again.page.locator('.row[aria-rowindex="2"] .c1').isHidden(), true);
      await again.page.locator('#columnsButton').click();
      assert.equal(await again.page.locator('#columnsMenu input[data-column="text"]').isChecked(), false);
      await again.page.keyboard.press('Escape');
      await again.page.getByRole('button', { name: 'Export JSONL' }).click();
      await again.page.waitForFunction(() => /Exported/.test(document.querySelector('.toolbar .status')?.textContent ?? ''));
      const first = JSON.parse(fs.readFileSync(again.host.exports[0].file, 'utf8').split('\n')[0]);
      assert.deepEqual(Object.keys(first), ['index', 'prediction', 'label', 'correct', 'loss', 'accuracy']);
      assert.equal(again.host.exports[0].name, 'tools_run.csv'.replace('.csv', '.jsonl'));
    } finally {
      await again.close();
    }
  } finally {
    await v.close();
  }
});
