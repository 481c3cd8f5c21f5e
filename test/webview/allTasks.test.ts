// The prediction view for each of the five tasks, in headless Chromium, on caches the real loop wrote for the
// project's fixture models: decoded prediction and label columns, correctness that agrees with them, the task
// in the header, "Wrong only" and search that answer (also with no match), and sorting from a header click.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { readCache, writeCache } from '../../src/core/cache/store';
import type { Evaluation } from '../../src/core/evaluate';
import { runLoop } from '../../src/core/loop/driver';
import { RunSettings, withDefaults } from '../../src/core/loop/settings';
import { normalizeAnswer } from '../../src/core/metrics/library/squad';
import { PredictionViewModel, viewInputFor } from '../../src/core/view/viewModel';
import { evaluate } from '../../src/core/evaluate';
import { firstTensor } from '../../src/core/tensor/tensor';
import { GEN_WORDS, writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';
import { qaWorkspace, seqClsWorkspace, tokenClsWorkspace, writeJsonl } from '../fixtures/workspace';
import { artifactsDir, buildViewPage, launchChromium, openView, settled, tempDir, visibleRows } from './harness';

let dir: string;
let browser: Browser;
let pageUrl: string;

function genTexts(n: number, seed: number, maxWords = 5): string[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) => Array.from({ length: 1 + ((i * 3 + Math.floor(rnd() * maxWords)) % maxWords) }, () => GEN_WORDS[Math.floor(rnd() * GEN_WORDS.length)]).join(' '));
}

/** Run the loop on a fixture and write its cache, as `evalpred run` does. */
async function cacheFor(name: string, settings: RunSettings): Promise<Evaluation> {
  const { evalPred, ...loop } = await runLoop(settings);
  const cacheDir = path.join(dir, `cache-${name}`);
  writeCache(cacheDir, evalPred, {
    numSamples: loop.numSamples,
    key: name,
    producer: { model: { path: settings.model }, dataset: { path: settings.dataset, split: null }, settings },
    extra: { loop },
  });
  const read = readCache(cacheDir);
  return { cacheDir, fromCache: true, manifest: read.manifest, evalPred: read.evalPred, loop };
}

before(async () => {
  dir = tempDir();
  pageUrl = await buildViewPage(dir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(evaluation: Evaluation) {
  const input = await viewInputFor(evaluation, { title: path.basename(evaluation.cacheDir) });
  const v = await openView(browser, pageUrl, (post) => new PredictionViewModel(input, post));
  await settled(v.page);
  return v;
}

async function count(page: Page): Promise<string> {
  return page.locator('.count').innerText();
}

/** Set the search box and wait until the count answers (no "loading…"). */
async function search(page: Page, text: string): Promise<string> {
  await page.fill('#search', text);
  await page.waitForFunction((t) => (document.querySelector('#search') as HTMLInputElement).value === t, text);
  await page.waitForTimeout(250); // the box debounces 200 ms
  await settled(page);
  return count(page);
}

/** Checks every task shares: wrong only answers with the number of ✗ rows, a search with no match answers, header sort. */
async function commonChecks(page: Page, n: number, wrong: number, sortable: boolean): Promise<void> {
  await page.check('#wrongOnly');
  await settled(page);
  assert.equal(await count(page), wrong ? `${wrong} of ${n} samples` : `no sample matches (of ${n})`);
  for (const r of await visibleRows(page)) assert.equal(r.correct, '✗');
  await page.uncheck('#wrongOnly');
  await settled(page);
  assert.equal(await search(page, 'zzz-no-such-text'), `no sample matches (of ${n})`);
  await search(page, '');
  const lossHeader = page.locator('.thead .cell').nth(6);
  if (sortable) {
    await lossHeader.click();
    await settled(page);
    assert.equal(await lossHeader.getAttribute('aria-sort'), 'descending');
    const losses = (await page.locator('.row:not([hidden]) .c6').allInnerTexts()).filter((t) => t !== '').map(Number);
    assert.ok(losses.length >= 2, 'rows with a loss are shown');
    for (let k = 1; k < losses.length; k++) assert.ok(losses[k - 1] >= losses[k], `loss column sorted descending: ${losses}`);
  }
  const indexHeader = page.locator('.thead .cell').nth(0);
  await indexHeader.click(); // index is the current sort (or not): clicking flips / sets it
  await settled(page);
  if ((await indexHeader.getAttribute('aria-sort')) === 'ascending') {
    await indexHeader.click();
    await settled(page);
  }
  assert.equal(await indexHeader.getAttribute('aria-sort'), 'descending');
  assert.equal((await visibleRows(page))[0].index, String(n - 1));
}

function wrongCount(rows: { correct: string }[]): number {
  return rows.filter((r) => r.correct === '✗').length;
}

test('seq2seq with predict_with_generate: decoded prediction and label, exact-match correctness, wrong only, search, sort', async () => {
  const modelDir = path.join(dir, 't5');
  writeSeq2SeqModel(modelDir, 'three-file', { seed: 4, eosSlope: 1.0, eosFrom: 4 });
  const questions = genTexts(12, 7);
  const answers = genTexts(12, 11, 3);
  answers[2] = 'The  CAT'; // decoded by the lower-casing tokenizer, compared after SQuAD normalisation
  const dataset = writeJsonl(path.join(dir, 't5.jsonl'), questions.map((q, i) => ({ question: q, answer: answers[i] })));
  const settings = withDefaults({ model: modelDir, dataset, batchSize: 4, predictWithGenerate: true, maxNewTokens: 8, textColumn: 'question', labelColumn: 'answer' });
  // First run: what the model generates. Then targets that equal some generations (one in other case and
  // with an article added), so the table has known right answers.
  const first = new PredictionViewModel(await viewInputFor(await cacheFor('seq2seq-first', settings)), () => {});
  const right = [0, 3, 5];
  for (const k of right) answers[k] = first.table.row(k).prediction;
  answers[5] = `The ${answers[5].toUpperCase()}`;
  writeJsonl(dataset, questions.map((q, i) => ({ question: q, answer: answers[i] })));
  const ev = await cacheFor('seq2seq', settings);
  const v = await open(ev);
  try {
    assert.equal(await v.page.locator('header .summary').innerText(), 'seq2seq generation · 12 samples');
    const rows = await visibleRows(v.page);
    assert.equal(rows.length, 12);
    rows.forEach((r, i) => {
      assert.equal(r.text, questions[i]);
      assert.equal(r.label, answers[i].toLowerCase().replace(/\s+/g, ' ').trim(), `sample ${i}: the label is the decoded target`);
      assert.equal(r.correct, normalizeAnswer(r.prediction) === normalizeAnswer(r.label) ? '✓' : '✗');
    });
    assert.ok(rows.some((r) => r.prediction.length > 0), 'the generated ids are decoded');
    for (const k of right) assert.equal(rows[k].correct, '✓', `sample ${k} is right by construction`);
    assert.ok(wrongCount(rows) > 0, 'and the others are wrong');
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-seq2seq.png'), fullPage: true });
    // Generated ids carry no confidence and no loss: those columns are hidden and their room goes to the
    // text, most of it to the prediction; the Columns menu still offers them.
    const header = (id: string) => v.page.locator(`.thead .cell[data-column="${id}"]`);
    assert.equal(await header('confidence').isHidden(), true);
    assert.equal(await header('loss').isHidden(), true);
    const width = async (id: string) => (await header(id).boundingBox())?.width ?? 0;
    const [textW, predW, labelW] = [await width('text'), await width('prediction'), await width('label')];
    assert.ok(predW >= 1.4 * labelW && predW >= 1.4 * textW, `prediction ${predW}px, text ${textW}px, label ${labelW}px`);
    await v.page.locator('#columnsButton').click();
    const box = v.page.locator('#columnsMenu input[data-column="confidence"]');
    assert.equal(await box.isChecked(), false);
    await box.check();
    assert.equal(await header('confidence').isVisible(), true, 'shown on request');
    assert.ok((await width('prediction')) < predW, 'and the prediction column gives it the room');
    await box.uncheck();
    assert.equal(await header('confidence').isHidden(), true);
    await v.page.locator('#columnsButton').click();
    // search over the decoded label: every row left holds the word
    const word = answers[0].split(' ')[0];
    const hits = rows.filter((r) => `${r.text}\n${r.prediction}\n${r.label}`.includes(word)).length;
    assert.equal(await search(v.page, word), `${hits} of 12 samples`);
    await search(v.page, '');
    await commonChecks(v.page, 12, wrongCount(rows), false);
  } finally {
    await v.close();
  }
});

test('causal LM: shifted next-token predictions decoded, per-sample loss, the token-level detail', async () => {
  const modelDir = path.join(dir, 'gpt2');
  writeCausalLmModel(modelDir, true);
  const texts = genTexts(9, 3);
  const dataset = writeJsonl(path.join(dir, 'lm.jsonl'), texts.map((t) => ({ text: t })));
  const ev = await cacheFor('causal', withDefaults({ model: modelDir, dataset, batchSize: 3 }));
  const v = await open(ev);
  try {
    assert.match(await v.page.locator('header').innerText(), /causal language model · 9 samples/);
    const rows = await visibleRows(v.page);
    rows.forEach((r, i) => {
      // labels are [CLS] w1 .. wn [SEP]; logits at t predict the token at t + 1, so the label shown is w1 .. wn
      assert.equal(r.label, texts[i], `sample ${i}`);
      assert.ok(r.prediction.split(' ').filter(Boolean).length <= texts[i].split(' ').length + 1, `at most one predicted token per actual next token (sample ${i})`);
    });
    const withLoss = await v.page.locator('.row:not([hidden]) .c6').allInnerTexts();
    assert.ok(withLoss.filter((t) => t !== '' && Number(t) > 0).length >= 5, `per-sample loss shown: ${withLoss}`);
    const longest = texts.findIndex((t) => t.split(' ').length >= 3);
    await v.page.locator('.row').nth(longest).click();
    await v.page.waitForSelector('.next-tokens tr');
    // one row per next token: the words, then [SEP]; never [CLS] (no logits predict the first token)
    const actual = await v.page.locator('.next-tokens tr td:nth-child(2)').allInnerTexts();
    assert.deepEqual(actual, [...texts[longest].split(' '), '[SEP]']);
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-causal-lm.png'), fullPage: true });
    await v.page.locator('.detail .close').click();
    await commonChecks(v.page, 9, wrongCount(rows), true);
  } finally {
    await v.close();
  }
});

test('extractive QA: answer spans decoded, SQuAD exact match against the answers, a row without answers', async () => {
  const ws = qaWorkspace(path.join(dir, 'qa'), { n: 10 });
  ws.rows[4].answers = { text: [], answer_start: [] }; // SQuAD v2 no-answer row
  writeJsonl(ws.dataset, ws.rows);
  const ev = await cacheFor('qa', withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs'] }));
  const v = await open(ev);
  try {
    assert.match(await v.page.locator('header').innerText(), /extractive question answering · 10 samples/);
    const rows = await visibleRows(v.page);
    rows.forEach((r, i) => {
      const answers = ws.rows[i].answers.text;
      assert.equal(r.label, answers.length ? answers[0] : '(no answer)');
      const ok = answers.length ? answers.some((a) => normalizeAnswer(a) === normalizeAnswer(r.prediction)) : normalizeAnswer(r.prediction) === '';
      assert.equal(r.correct, ok ? '✓' : '✗', `sample ${i}: ${r.prediction} vs ${answers}`);
      assert.ok(`${ws.rows[i].question} ${ws.rows[i].context}`.includes(r.prediction), `the predicted span is text of the input: ${r.prediction}`);
    });
    await commonChecks(v.page, 10, wrongCount(rows), true);
  } finally {
    await v.close();
  }
});

test('extractive QA with a doc stride: one row per example, the post-processed answer against the references, EM and F1 per question', async () => {
  const ws = qaWorkspace(path.join(dir, 'qa-stride'), { n: 6 });
  // contexts of three sentences: several 16-token windows each
  const rows = ws.rows.map((r, i) => {
    const context = [r.context, ws.rows[(i + 1) % 6].context, ws.rows[(i + 2) % 6].context].join(' ');
    return { ...r, context, answers: { text: r.answers.text, answer_start: [r.context.lastIndexOf(r.answers.text[0])] } };
  });
  writeJsonl(ws.dataset, rows);
  const ev = await evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, maxLength: 16, docStride: 3 }), { cwd: dir });
  const features = firstTensor(ev.evalPred.predictions)!.shape[0];
  assert.ok(features > rows.length);
  const v = await open(ev);
  try {
    assert.match(await v.page.locator('header').innerText(), /extractive question answering · 6 samples/);
    assert.match(await v.page.locator('.notes').innerText(), new RegExp(`one row per example: .*doc stride 3, ${features} features`));
    const shown = await visibleRows(v.page);
    assert.equal(shown.length, 6);
    shown.forEach((r, i) => {
      assert.ok(r.text.startsWith(rows[i].question), 'the dataset row of the example');
      assert.equal(r.label, rows[i].answers.text[0]);
      assert.ok(rows[i].context.includes(r.prediction), `the answer is text of the context: ${r.prediction}`);
      assert.equal(r.correct, normalizeAnswer(r.prediction) === normalizeAnswer(rows[i].answers.text[0]) ? '✓' : '✗');
    });
    await v.page.screenshot({ path: path.join(artifactsDir(), 'view-qa-doc-stride.png'), fullPage: true });
    await commonChecks(v.page, 6, wrongCount(shown), false); // no per-example loss: the loop's were per feature
  } finally {
    await v.close();
  }
});

test('token classification: tags on the dataset words, per-entity correctness, wrong only and sort', async () => {
  const ws = tokenClsWorkspace(path.join(dir, 'ner'), { n: 10, numLabels: 3 });
  const ev = await cacheFor('ner', withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 }));
  const v = await open(ev);
  try {
    assert.match(await v.page.locator('header').innerText(), /token classification · 10 samples/);
    const rows = await visibleRows(v.page);
    rows.forEach((r, i) => {
      assert.equal(r.text.replace(/\s+/g, ' ').trim(), ws.rows[i].tokens.join(' '), 'tags are aligned to the dataset words');
      assert.equal(r.prediction.split(' ').length, ws.rows[i].tokens.length);
    });
    await commonChecks(v.page, 10, wrongCount(rows), true);
  } finally {
    await v.close();
  }
});

test('sequence classification: label names, wrong only, search on a label, sort', async () => {
  const ws = seqClsWorkspace(path.join(dir, 'cls'), { n: 12, numLabels: 3 });
  const ev = await cacheFor('cls', withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 }));
  const v = await open(ev);
  try {
    assert.match(await v.page.locator('header').innerText(), /sequence classification · 12 samples/);
    const rows = await visibleRows(v.page);
    rows.forEach((r, i) => assert.equal(r.text, ws.texts[i]));
    await commonChecks(v.page, 12, wrongCount(rows), true);
  } finally {
    await v.close();
  }
});

test('a cache whose model folder has moved: the view opens and says why predictions are not decoded', async () => {
  const modelDir = path.join(dir, 't5-moved');
  writeSeq2SeqModel(modelDir, 'merged', { seed: 4, eosSlope: 1.0, eosFrom: 4 });
  const questions = genTexts(5, 9);
  const dataset = writeJsonl(path.join(dir, 'moved.jsonl'), questions.map((q) => ({ question: q, answer: q.split(' ')[0] })));
  const ev = await cacheFor('moved', withDefaults({ model: modelDir, dataset, batchSize: 4, predictWithGenerate: true, maxNewTokens: 6, textColumn: 'question', labelColumn: 'answer' }));
  fs.renameSync(modelDir, modelDir + '-elsewhere');
  const v = await open(ev);
  try {
    const rows = await visibleRows(v.page);
    assert.equal(rows.length, 5);
    rows.forEach((r, i) => assert.equal(r.text, questions[i], 'the dataset text is still shown'));
    assert.ok(rows.every((r) => /^[\d ]*$/.test(r.prediction) && /^[\d ]+$/.test(r.label)), 'token ids instead of text');
    assert.match(await v.page.locator('.notes').innerText(), new RegExp(`shown as token ids, not text: the model folder ${modelDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} named in the cache is not there`));
  } finally {
    await v.close();
  }
});
