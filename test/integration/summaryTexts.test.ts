// The run summary's first samples show each row's input text. A fresh run hands those texts back from the loop
// (LoopResult.firstRowTexts), so the summary does not read the whole dataset a second time for five rows; a
// cached run, which has no loop, still reads the dataset for them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { printSummary } from '../../src/cli/commands/run';
import { evaluate } from '../../src/core/evaluate';
import { withDefaults } from '../../src/core/loop/settings';
import { seqClsWorkspace, tempDir, tokenClsWorkspace } from '../fixtures/workspace';

const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What printSummary writes, as a string. */
async function summaryOf(...args: Parameters<typeof printSummary>): Promise<string> {
  let out = '';
  await printSummary(args[0], args[1], { write: (s: string) => ((out += s), true) } as unknown as typeof process.stderr);
  return out;
}

test('a fresh run carries its first rows\' texts (column, template, token list); the summary shows them without the dataset', async () => {
  const ws = seqClsWorkspace(path.join(dir, 'cls'), { n: 9, numLabels: 2 });
  const base = { model: ws.modelDir, dataset: ws.dataset, batchSize: 4 };
  const ev = await evaluate(withDefaults({ ...base, cache: path.join(dir, 'cls', 'c') }), { cwd: dir });
  assert.equal(ev.fromCache, false);
  assert.deepEqual(ev.firstRowTexts, ws.texts.slice(0, 5));
  assert.equal('firstRowTexts' in ev.loop, false, 'not in the manifest\'s loop record');
  // The dataset moved away after the run: the summary still has the texts, from the loop.
  const moved = ws.dataset + '.moved';
  fs.renameSync(ws.dataset, moved);
  try {
    const shown = await summaryOf(ev, base);
    for (const t of ws.texts.slice(0, 5)) assert.ok(shown.includes(`"${t.length > 66 ? t.slice(0, 66) : t}`), `${t} in:\n${shown}`);
  } finally {
    fs.renameSync(moved, ws.dataset);
  }
  // A cached run has no loop: its texts come from reading the dataset, as before.
  const cached = await evaluate(withDefaults({ ...base, cache: path.join(dir, 'cls', 'c') }), { cwd: dir });
  assert.equal(cached.fromCache, true);
  assert.equal(cached.firstRowTexts, undefined);
  const shownCached = await summaryOf(cached, base);
  for (const t of ws.texts.slice(0, 5)) assert.ok(shownCached.includes(`"${t.length > 66 ? t.slice(0, 66) : t}`), `${t} in:\n${shownCached}`);

  const templated = await evaluate(withDefaults({ ...base, textTemplate: 'review: {sentence}', cache: path.join(dir, 'cls', 't') }), { cwd: dir });
  assert.deepEqual(templated.firstRowTexts, ws.texts.slice(0, 5).map((t) => `review: ${t}`));

  const tk = tokenClsWorkspace(path.join(dir, 'tok'), { n: 3 });
  const tokEv = await evaluate(withDefaults({ model: tk.modelDir, dataset: tk.dataset, batchSize: 2, cache: path.join(dir, 'tok', 'c') }), { cwd: dir });
  assert.deepEqual(tokEv.firstRowTexts, tk.rows.map((r) => r.tokens.join(' ')), 'fewer rows than five: all of them; a token list joined by spaces');
});
