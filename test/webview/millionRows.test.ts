// The virtualised table on a 1,000,000-row cache: first rows appear, only the visible rows are in the DOM,
// and scrolling (wheel, scrollbar jump, keyboard End) shows the right rows at every position.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { PredictionViewModel } from '../../src/core/view/viewModel';
import { artifactsDir, buildViewPage, launchChromium, openView, settled, tempDir, visibleRows } from './harness';
import { SYNTH_LABELS, synthText, syntheticEvaluation } from './synthetic';

const N = 1_000_000;
let dir: string;
let browser: Browser;
let pageUrl: string;
let input: ReturnType<typeof syntheticEvaluation>;

before(async () => {
  dir = tempDir();
  input = syntheticEvaluation(dir, N);
  pageUrl = await buildViewPage(dir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a 1,000,000-row table renders its first rows and keeps only the visible rows in the DOM', async () => {
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post));
  try {
    await settled(v.page);
    const rows = await visibleRows(v.page);
    assert.ok(rows.length >= 10, `expected a screenful of rows, got ${rows.length}`);
    rows.forEach((r, k) => {
      assert.equal(r.pos, k);
      assert.equal(r.index, String(k));
      assert.equal(r.text, synthText(k));
      assert.equal(r.label, SYNTH_LABELS[k % 4]); // gold = i % 4 by construction
    });
    const inDom = await v.page.locator('.row').count();
    assert.ok(inDom < 80, `only visible rows belong in the DOM, found ${inDom}`);
    assert.match(await v.page.locator('.count').innerText(), /1,000,000 of 1,000,000/);
    await v.page.screenshot({ path: path.join(artifactsDir(), 'million-top.png') });

    // Jump the scrollbar to the middle: rows near sample 500,000 appear, in order, with their own text.
    await v.page.evaluate(() => {
      const vp = document.querySelector('.viewport')!;
      vp.scrollTop = (vp.scrollHeight - vp.clientHeight) / 2;
    });
    // the scroll event comes on the next frame: wait for the rows to move, then for their data
    await v.page.waitForFunction(() => Number(document.querySelector('.row')?.getAttribute('aria-rowindex')) > 1000);
    await settled(v.page);
    const mid = await visibleRows(v.page);
    const first = Number(mid[0].index);
    assert.ok(Math.abs(first - N / 2) < 100, `middle of the scrollbar shows sample ${first}`);
    mid.forEach((r, k) => assert.equal(r.text, synthText(first + k)));

    // Wheel scrolling moves a few rows at a time, never skipping or repeating rows.
    await v.page.mouse.move(640, 700);
    await v.page.mouse.wheel(0, 24 * 5);
    await v.page.waitForFunction((f) => Number(document.querySelector('.row[aria-rowindex] .c0')?.textContent) !== f, first);
    await settled(v.page);
    const wheeled = await visibleRows(v.page);
    const w0 = Number(wheeled[0].index);
    assert.ok(w0 > first && w0 <= first + 6, `a 5-row wheel step moved from ${first} to ${w0}`);
    wheeled.forEach((r, k) => assert.equal(Number(r.index), w0 + k));

    // Keyboard: End selects and shows the very last sample.
    await v.page.locator('.viewport').focus();
    await v.page.keyboard.press('End');
    await settled(v.page);
    const end = await visibleRows(v.page);
    const last = end[end.length - 1];
    assert.equal(last.index, String(N - 1));
    assert.equal(last.selected, true);
    assert.equal(last.text, synthText(N - 1));
    await v.page.screenshot({ path: path.join(artifactsDir(), 'million-end.png') });
  } finally {
    await v.close();
  }
});
