// The prediction view of a generation run with num_return_sequences n, in headless Chromium, on caches the real
// loop wrote (beam search on the fixture models): every row shows its sample's n sequences ranked, each with its
// own ✓/✗ and metric values against the one label, the text and label once; "Wrong only", search and sort work
// on samples; the detail lists the n sequences and the sample's block of prediction rows. A decoder-only run
// shows each sequence's new tokens after the prompt. Screenshots go to test-artifacts/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { evaluate } from '../../src/core/evaluate';
import { loadTokenizer } from '../../src/core/text';
import { Tensor } from '../../src/core/tensor/tensor';
import { withDefaults } from '../../src/core/loop/settings';
import { PredictionViewModel, viewInputFor } from '../../src/core/view/viewModel';
import type { RowView } from '../../src/shared/protocol';
import { GEN_VOCAB, GEN_WORDS, writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';
import { writeJsonl } from '../fixtures/workspace';
import { artifactsDir, buildViewPage, launchChromium, openView, settled, tempDir } from './harness';

let dir: string;
let browser: Browser;
let pageUrl: string;

before(async () => {
  dir = tempDir();
  pageUrl = await buildViewPage(dir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface ShownRow {
  index: string;
  text: string;
  label: string;
  /** Each line of the prediction cell: its rank and its text. */
  sequences: { rank: string; text: string; wrong: boolean }[];
  marks: string[];
  /** Each metric column's lines. */
  scores: string[][];
  height: number;
}

/** The rows on screen, read line by line from the cells. */
async function shownRows(page: Page): Promise<ShownRow[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.row'))
      .filter((r) => getComputedStyle(r).display !== 'none' && !r.classList.contains('loading'))
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((r) => {
        const cells = Array.from(r.children) as HTMLElement[];
        return {
          index: cells[0].textContent ?? '',
          text: cells[1].textContent ?? '',
          label: cells[3].textContent ?? '',
          sequences: Array.from(cells[2].querySelectorAll<HTMLElement>('.seq')).map((s) => ({
            rank: s.querySelector('.rank')?.textContent ?? '',
            text: Array.from(s.childNodes)
              .filter((n) => !(n instanceof HTMLElement && n.classList.contains('rank')))
              .map((n) => n.textContent)
              .join(''),
            wrong: s.classList.contains('wrong'),
          })),
          marks: Array.from(cells[4].querySelectorAll('.seq')).map((s) => s.textContent ?? ''),
          scores: cells.slice(7).map((c) => Array.from(c.querySelectorAll('.seq')).map((s) => s.textContent ?? '')),
          height: r.getBoundingClientRect().height,
        };
      }),
  );
}

async function search(page: Page, text: string): Promise<string> {
  await page.fill('#search', text);
  await page.waitForTimeout(250); // the box debounces 200 ms
  await settled(page);
  return page.locator('.count').innerText();
}

/** Every cell's lines are the model's: ranked sequences, each sequence's mark and metric values. */
function checkRow(shown: ShownRow, row: RowView, n: number): void {
  const i = row.index;
  assert.equal(shown.index, String(i));
  assert.equal(shown.label, row.label ?? '');
  assert.equal(shown.sequences.length, n, `sample ${i}: a line per sequence`);
  assert.deepEqual(shown.sequences.map((s) => s.rank), Array.from({ length: n }, (_, j) => String(j + 1)));
  row.sequences!.forEach((s, j) => {
    const want = s.continuation !== undefined ? `… ${s.continuation || '(no new tokens)'}` : s.prediction;
    assert.equal(shown.sequences[j].text.replace(/\s+/g, ' ').trim(), want.replace(/\s+/g, ' ').trim(), `sample ${i} #${j + 1}`);
    assert.equal(shown.sequences[j].wrong, s.correct === false);
    assert.equal(shown.marks[j], s.correct === undefined ? '' : s.correct ? '✓' : '✗');
    shown.scores.forEach((col, k) => assert.equal(col[j], Number.isNaN(s.scores![k]) ? '' : s.scores![k].toFixed(3), `sample ${i} #${j + 1} metric ${k}`));
  });
  assert.equal(shown.height, 24 * n, 'a row is as tall as its lines');
}

test('seq2seq, 4 beams, num_return_sequences 3: each row shows its 3 sequences ranked and scored; filters, search and sort work on samples', async () => {
  const modelDir = path.join(dir, 't5');
  writeSeq2SeqModel(modelDir, 'three-file', { seed: 4, eosSlope: 1.0, eosFrom: 4, generationConfig: { max_length: 9 } });
  const N = 8, n = 3;
  const rows = Array.from({ length: N }, (_, i) => ({ q: GEN_WORDS.slice(i, i + 2 + (i % 3)).join(' '), a: GEN_WORDS.slice(i + 1, i + 3).join(' ') }));
  const dataset = writeJsonl(path.join(dir, 't5.jsonl'), rows);
  const base = { model: modelDir, dataset, batchSize: 4, predictWithGenerate: true, numBeams: 4, numReturnSequences: n, textColumn: 'q', labelColumn: 'a' };
  // Targets that equal a generated sequence: sample 1's best, sample 2's second, sample 4's third (the others wrong).
  const first = new PredictionViewModel(await viewInputFor(await evaluate(withDefaults({ ...base, cache: path.join(dir, 'c0') }), { cwd: dir })), () => {});
  const right: [number, number][] = [[1, 0], [2, 1], [4, 2]];
  for (const [i, j] of right) rows[i].a = first.table.row(i).sequences![j].prediction;
  writeJsonl(dataset, rows);
  const ev = await evaluate(withDefaults({ ...base, cache: path.join(dir, 'c1') }), { cwd: dir });
  const input = await viewInputFor(ev, { title: 't5-beams' });
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post), { height: 1000 });
  try {
    await settled(v.page);
    const model = v.model.table;
    assert.equal(await v.page.locator('header .summary').innerText(), `seq2seq generation · ${N} samples × ${n} sequences (num_return_sequences)`);
    const shown = await shownRows(v.page);
    assert.ok(shown.length >= 4, `rows on screen: ${shown.length}`);
    shown.forEach((s) => checkRow(s, model.row(Number(s.index)), n));
    for (const [i, j] of right) assert.equal(shown[i].marks[j], '✓', `sample ${i}'s sequence #${j + 1} equals its label`);
    // each line is coloured by its own sequence: sample 2's ✓ (#2) is not the colour of its ✗ (#1), nor its text
    const colours = await v.page.evaluate(() => {
      const row = document.querySelector('.row[aria-rowindex="3"]')!;
      const colour = (sel: string, k: number) => getComputedStyle(row.querySelectorAll(sel)[k]).color;
      return { wrongMark: colour('.c4 .seq', 0), rightMark: colour('.c4 .seq', 1), wrongText: colour('.c2 .seq', 0), rightText: colour('.c2 .seq', 1), cell: getComputedStyle(row.querySelector('.c0')!).color };
    });
    assert.notEqual(colours.rightMark, colours.wrongMark, JSON.stringify(colours));
    assert.notEqual(colours.rightText, colours.wrongText, JSON.stringify(colours));
    assert.equal(colours.rightText, colours.cell, 'a right sequence\'s text is plain');
    assert.equal(shown[1].text, rows[1].q, 'the input once per row');
    const header = await v.page.locator('.thead .cell[data-column="score:f1"]').getAttribute('title');
    assert.match(header ?? '', /a value per sequence, each against the sample's label; sorting, "Wrong only" and export's single value use #1/);
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-return-sequences.png') });

    // Wrong only: samples whose best sequence is wrong (sample 2 and 4 are right only further down)
    const bestWrong = Array.from({ length: N }, (_, i) => i).filter((i) => model.row(i).correct === false);
    assert.ok(bestWrong.includes(2) && bestWrong.includes(4) && !bestWrong.includes(1));
    await v.page.check('#wrongOnly');
    await settled(v.page);
    assert.equal(await v.page.locator('.count').innerText(), `${bestWrong.length} of ${N} samples`);
    assert.deepEqual((await shownRows(v.page)).map((r) => Number(r.index)), bestWrong.slice(0, (await shownRows(v.page)).length));
    await v.page.uncheck('#wrongOnly');
    await settled(v.page);

    // search: a word only a lower-ranked sequence of one sample holds finds that sample
    const only = (() => {
      for (let i = 0; i < N; i++) {
        const seqs = model.row(i).sequences!;
        for (const w of seqs.slice(1).flatMap((s) => s.prediction.split(' '))) {
          const needle = w;
          if (!needle || seqs[0].prediction.split(' ').includes(needle)) continue;
          const hits = Array.from({ length: N }, (_, k) => k).filter((k) => model.searchText(k).split(/\s+/).includes(needle));
          if (hits.length === 1 && hits[0] === i) return { i, needle };
        }
      }
      return undefined;
    })();
    if (only) {
      assert.equal(await search(v.page, only.needle), `1 of ${N} samples`);
      assert.equal((await shownRows(v.page))[0].index, String(only.i));
    }
    assert.equal(await search(v.page, 'zzz-nothing'), `no sample matches (of ${N})`);
    await search(v.page, '');

    // sort by F1 (the best's) from the header: ascending first, then descending
    const f1Header = v.page.locator('.thead .cell[data-column="score:f1"]');
    await f1Header.click();
    await settled(v.page);
    assert.equal(await f1Header.getAttribute('aria-sort'), 'ascending');
    const up = (await shownRows(v.page)).map((r) => model.row(Number(r.index)).scores![1]);
    for (let k = 1; k < up.length; k++) assert.ok(up[k - 1] <= up[k], `sorted by the best's F1: ${up}`);
    await f1Header.click();
    await settled(v.page);
    const down = (await shownRows(v.page)).map((r) => model.row(Number(r.index)).scores![1]);
    assert.ok(down.length >= 4);
    for (let k = 1; k < down.length; k++) assert.ok(down[k - 1] >= down[k], `sorted by the best's F1, descending: ${down}`);

    // the detail: the 3 sequences, each with its mark and metrics, and the sample's block of prediction rows
    await v.page.locator('.thead .cell[data-column="index"]').click();
    await settled(v.page);
    await v.page.locator('.row[aria-rowindex="3"]').click();
    await v.page.waitForSelector('.detail ol.sequences li');
    const items = await v.page.locator('.detail ol.sequences li').allInnerTexts();
    assert.equal(items.length, n);
    model.row(2).sequences!.forEach((s, j) => {
      assert.ok(items[j].startsWith(s.prediction), `#${j + 1}: ${items[j]}`);
      assert.match(items[j], new RegExp(`${s.correct ? '✓' : '✗'} · EM ${s.correct ? 1 : 0} · F1 `));
    });
    assert.match(await v.page.locator('.detail .raw-name').first().innerText(), new RegExp(`^predictions\\[6:9\\]\\s+int64\\[3, ${(ev.evalPred.predictions as Tensor).shape[1]}\\]`));
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-return-sequences-detail.png'), fullPage: true });
  } finally {
    await v.close();
  }
});

test('decoder-only generate, num_return_sequences 2: each sequence shows its new tokens after the prompt', async () => {
  const modelDir = path.join(dir, 'gpt2');
  writeCausalLmModel(modelDir, true, { seed: 9 });
  const tc = path.join(modelDir, 'tokenizer_config.json');
  fs.writeFileSync(tc, JSON.stringify({ ...JSON.parse(fs.readFileSync(tc, 'utf8')), padding_side: 'left' }));
  const N = 6, n = 2;
  const rows = Array.from({ length: N }, (_, i) => ({ text: GEN_WORDS.slice(i, i + 2 + (i % 3)).join(' ') }));
  const dataset = writeJsonl(path.join(dir, 'lm.jsonl'), rows);
  const ev = await evaluate(withDefaults({ model: modelDir, dataset, batchSize: 3, predictWithGenerate: true, maxNewTokens: 5, numBeams: 3, numReturnSequences: n, cache: path.join(dir, 'c-lm') }), { cwd: dir });
  const input = await viewInputFor(ev, { title: 'gpt2-beams' });
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post));
  try {
    await settled(v.page);
    assert.equal(await v.page.locator('header .summary').innerText(), `causal language model · ${N} samples × ${n} sequences (num_return_sequences)`);
    const model = v.model.table;
    const shown = await shownRows(v.page);
    assert.equal(shown.length, N);
    shown.forEach((s, i) => {
      const r = model.row(i);
      assert.equal(s.text, rows[i].text);
      r.sequences!.forEach((q, j) => {
        assert.ok(q.continuation !== undefined, `sample ${i} #${j + 1}: the row starts with the prompt`);
        assert.equal(q.prediction.replace(/\s+/g, ' ').trim(), `${rows[i].text} ${q.continuation}`.trim(), 'the prediction is the prompt, then the new tokens');
      });
      checkRow(s, r, n);
    });
    assert.ok(shown.some((s) => s.sequences[0].text !== s.sequences[1].text), 'the sequences differ where they are new');
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-return-sequences-causal.png') });
  } finally {
    await v.close();
  }
});

test('more sequences than a row has lines: the first ones, then how many more, all of them in the detail', async () => {
  const modelDir = path.join(dir, 't5-many');
  writeSeq2SeqModel(modelDir, 'three-file', { seed: 4 });
  const n = 10, N = 3, W = 3;
  const id = (w: string) => GEN_VOCAB.indexOf(w);
  // sample i's sequence j: two words; the label is sequence 9 of sample 0
  const seq = (i: number, j: number) => [GEN_WORDS[(i * 5 + j) % GEN_WORDS.length], GEN_WORDS[(j + 3) % GEN_WORDS.length]];
  const predictions = Tensor.from('int64', [N * n, W], Array.from({ length: N * n }, (_, k) => [...seq(Math.floor(k / n), k % n).map(id), -100]).flat());
  const labelIds = Tensor.from('int64', [N, W], Array.from({ length: N }, () => [...seq(0, 9).map(id), -100]).flat());
  const input = { title: 'many', evalPred: { predictions, labelIds, inputs: null, losses: null }, task: 'seq2seq-lm' as const, tokenizer: await loadTokenizer(modelDir), generated: true, numReturnSequences: n };
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post));
  try {
    await settled(v.page);
    const shown = await shownRows(v.page);
    assert.equal(shown[0].height, 24 * 8, 'at most 8 lines');
    assert.deepEqual(shown[0].sequences.map((s) => s.rank), ['1', '2', '3', '4', '5', '6', '7', '']);
    assert.equal(shown[0].sequences[7].text, '+3 more: open the row');
    assert.equal(shown[0].marks.length, 7);
    await v.page.locator('.row[aria-rowindex="1"]').click();
    await v.page.waitForSelector('.detail ol.sequences li');
    const items = await v.page.locator('.detail ol.sequences li').allInnerTexts();
    assert.equal(items.length, n);
    assert.match(items[9], new RegExp(`^${seq(0, 9).join(' ')}\\s+✓ · EM 1 · F1 1$`), 'the tenth sequence is the label');
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-return-sequences-many.png'), fullPage: true });
  } finally {
    await v.close();
  }
});

test('a reopened view comes back at the same sample: the saved scroll offset is in rows of n lines', async () => {
  const modelDir = path.join(dir, 't5-scroll');
  writeSeq2SeqModel(modelDir, 'three-file', { seed: 4 });
  const n = 3, N = 60;
  const id = (w: string) => GEN_VOCAB.indexOf(w);
  const predictions = Tensor.from('int64', [N * n, 2], Array.from({ length: N * n }, (_, k) => [id(GEN_WORDS[k % GEN_WORDS.length]), id(GEN_WORDS[(k + 1) % GEN_WORDS.length])]).flat());
  const labelIds = Tensor.from('int64', [N, 2], Array.from({ length: N }, (_, i) => [id(GEN_WORDS[i % GEN_WORDS.length]), -100]).flat());
  const tokenizer = await loadTokenizer(modelDir);
  const make = (post: Parameters<typeof openView>[2] extends (p: infer P) => unknown ? P : never) =>
    new PredictionViewModel({ title: 'scroll', evalPred: { predictions, labelIds, inputs: null, losses: null }, task: 'seq2seq-lm', tokenizer, generated: true, numReturnSequences: n }, post);
  const firstShown = async (page: Page) => (await shownRows(page)).find((r) => r.sequences.length > 0)!;
  const v = await openView(browser, pageUrl, make);
  let saved: unknown;
  try {
    await settled(v.page);
    // scroll so that sample 20 is the first row: 20 rows of 3 lines of 24 px
    await v.page.evaluate(() => (document.querySelector('.viewport')!.scrollTop = 20 * 72));
    await v.page.waitForFunction(() => document.querySelector('.row[aria-rowindex="21"]') !== null);
    await settled(v.page);
    assert.equal((await firstShown(v.page)).index, '20');
    await v.page.waitForTimeout(300); // the scroll position is saved 150 ms after scrolling stops
    saved = await v.state();
  } finally {
    await v.close();
  }
  const again = await openView(browser, pageUrl, make, { state: saved });
  try {
    await settled(again.page);
    await again.page.waitForFunction(() => document.querySelector('.row[aria-rowindex="21"]:not(.loading)') !== null, undefined, { timeout: 5000 }).catch(() => {});
    const top = await again.page.evaluate(() => {
      const vp = document.querySelector('.viewport')!.getBoundingClientRect();
      const rows = Array.from(document.querySelectorAll<HTMLElement>('.row')).filter((r) => getComputedStyle(r).display !== 'none');
      return rows.map((r) => ({ i: r.getAttribute('aria-rowindex'), top: r.getBoundingClientRect().top - vp.top })).sort((a, b) => a.top - b.top).find((r) => r.top >= -1)?.i;
    });
    assert.equal(top, '21', 'the first row on screen is sample 20 again');
  } finally {
    await again.close();
  }
});
