// The e2e's second window (run.mjs): a seq2seq workspace built from the fixtures (test/e2e/fixture.ts
// makeSeq2SeqWorkspace: a T5-shaped three-file export, qa.jsonl, metrics.py decoding with evalpred's
// load_tokenizer), with no launch.json.
// Issue 11: the palette's "EvalPred: Run Evaluation" detects the task from the model folder and asks only what a
// seq2seq model needs; the session pauses at the compute_metrics boundary; the prediction view shows the decoded
// predictions and labels (checked against the dataset's answers and against the Python load_tokenizer's decode of
// the cached predictions.npy).
// Issue 10: a breakpoint inside compute_metrics (debugpy), the stop on that line, eval_preds.predictions.shape and a
// decoded string in the Debug Console, a step over to the next line, continue (metrics), edit + save (the rerun
// stops on the breakpoint again), continue (the new metrics).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * @param {object} c  page, palette, goToLine, frameWith, screenshot, check, until, nbsp, log, T, extLog (this
 *   window's EvalPred.log), ws (the seq2seq workspace), workspace (makeSeq2SeqWorkspace's result), fixture, python.
 */
export async function seq2seqScenarios(c) {
  const { page, palette, goToLine, screenshot, check, until, nbsp, log, T, extLog, ws, workspace, fixture, python } = c;
  const stops = () => (extLog().match(/: stopped \(/g) ?? []).length;

  // ---- Issue 11: the palette flow, each question checked as it comes (title and the row answered).
  await palette('EvalPred: Run Evaluation');
  const asked = [];
  const answer = async (expectTitle, filter, rowText) => {
    const title = page.locator('.quick-input-widget .quick-input-title');
    await title.waitFor({ state: 'visible', timeout: T.mid });
    // The title changes in place from one question to the next: wait for one that is not the previous question's.
    const t = await until(`the quick pick after "${asked.at(-1) ?? 'the palette'}"`, async () => {
      const s = nbsp(await title.innerText({ timeout: 1000 }).catch(() => ''));
      return s && s !== asked.at(-1) && s;
    }, T.mid);
    asked.push(t);
    if (!t.includes(expectTitle)) throw new Error(`expected the question "${expectTitle}", the palette asked "${t}" (asked so far: ${asked.join(' → ')})`);
    await page.locator('.quick-input-widget input').fill(filter);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: rowText }).first();
    await row.waitFor({ timeout: T.short });
    const rowShown = nbsp(await row.innerText());
    await page.keyboard.press('Enter');
    return rowShown;
  };
  const modelRow = await answer('model folder', 't5', 't5');
  check('the model folder quick pick detects the task from the folder (seq2seq-lm, three-file export)', /seq2seq-lm/.test(modelRow) && /encoder_model\.onnx \+ decoder_model\.onnx/.test(modelRow), modelRow.replace(/\n/g, ' | '));
  await answer('dataset', 'qa.jsonl', 'qa.jsonl');
  const inputRow = await answer('model input', 'question', 'question');
  check('the model input is pre-filled from the dataset\'s columns (question, guessed)', /column \(guessed\)/.test(inputRow), inputRow.replace(/\n/g, ' | '));
  const targetRow = await answer('target column', 'answer', 'answer');
  check('the target column is pre-filled (answer, guessed)', /guessed/.test(targetRow), targetRow.replace(/\n/g, ' | '));
  const genRow = await answer('predictions', 'Generate', 'Generate');
  check('generation is offered first, as Seq2SeqTrainer with predict_with_generate', /predict_with_generate=True/.test(genRow), genRow.replace(/\n/g, ' | '));
  await answer('generation length', 'generation_config', "The model's generation_config");
  await answer('metric file', 'metrics.py', 'metrics.py');
  await answer('Run Evaluation: start', 'Run', 'Run');
  const expected = ['model folder', 'dataset', 'model input', 'target column', 'predictions', 'generation length', 'metric file', 'start'];
  check('the palette asks only what a seq2seq model needs (no task, no second text column, no label column)',
    asked.length === expected.length && asked.every((t, i) => t.includes(expected[i])), asked.join(' → '));
  await screenshot('seq2seq-started');

  const boundary = await until('the seq2seq session to stop at the compute_metrics boundary', () => /: stopped \(breakpoint\), 8 samples cached in (\S+)/.exec(extLog()), T.long).catch(() => null);
  check('the seq2seq session stops at the compute_metrics boundary (8 samples cached)', !!boundary, boundary?.[0] ?? extLog().split('\n').slice(-5).join(' | '));
  if (!boundary) return;
  const cacheDir = boundary[1];
  const callStack = async () => nbsp(await page.locator('.debug-call-stack .monaco-list-row').first().innerText({ timeout: 2000 }).catch(() => ''));
  const boundaryStack = await until('compute_metrics in the call stack', async () => /compute_metrics/.test(await callStack()) && callStack(), T.short).catch(callStack);
  check('the call stack shows compute_metrics(eval_preds) at the boundary', /compute_metrics\(eval_preds\)/.test(boundaryStack), boundaryStack.replace(/\n/g, ' | '));
  await screenshot('seq2seq-paused-at-boundary');

  // The oracle for the view: the dataset's answers, and the Python tokenizer's decode of the cached generations.
  const pyDecoded = JSON.parse(execFileSync(python, ['-c', `import json, sys, numpy as np
sys.path.insert(0, sys.argv[3])
from evalpred import load_tokenizer
tok = load_tokenizer(sys.argv[2])
p = np.load(sys.argv[1] + '/predictions.npy')
print(json.dumps({"shape": list(p.shape), "preds": tok.batch_decode(p, skip_special_tokens=True)}))`, cacheDir, workspace.modelDir, c.pythonPackage], { encoding: 'utf8' }));

  await palette('EvalPred: Open Prediction View');
  const wv = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  // The table is virtualised: the rows shown (not [hidden]), loaded (no .loading placeholder), in sample order.
  const readRows = () =>
    wv.locator('.row:not([hidden])').evaluateAll((rs) =>
      rs.filter((r) => !r.classList.contains('loading'))
        .sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')))
        .map((r) => Array.from(r.children).map((x) => x.textContent ?? '')));
  await wv.locator('.viewport').scrollIntoViewIfNeeded({ timeout: T.short }).catch(() => {});
  const rows = await until('the prediction view\'s 8 rows, loaded', async () => {
    const rs = await readRows().catch(() => []);
    return rs.length === 8 && rs;
  }, T.mid).catch(() => readRows().catch(() => []));
  const summary = nbsp(await wv.locator('header .summary').innerText({ timeout: 2000 }).catch(() => ''));
  fs.writeFileSync(path.join(c.artifacts, 'seq2seq-prediction-view.txt'), nbsp(await wv.locator('body').innerText({ timeout: 2000 }).catch(() => '')));
  check('the prediction view says seq2seq generation · 8 samples', summary === 'seq2seq generation · 8 samples', summary);
  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  const inputsOk = rows.length === 8 && rows.every((r, i) => norm(r[1]) === workspace.questions[i]);
  check('the view shows each decoded input (the question)', inputsOk, rows.slice(0, 2).map((r) => r[1]).join(' | '));
  const labelsOk = rows.length === 8 && rows.every((r, i) => norm(r[3]) === workspace.answers[i]);
  check('the view shows each decoded label (the dataset\'s answer)', labelsOk, rows.map((r, i) => `${norm(r[3])}=${workspace.answers[i]}`).slice(0, 4).join(', '));
  const predsOk = rows.length === 8 && rows.every((r, i) => norm(r[2]) === norm(pyDecoded.preds[i])) && rows.some((r) => norm(r[2]));
  check('the view shows each decoded prediction (equal to load_tokenizer\'s decode of predictions.npy)', predsOk, rows.map((r, i) => `"${norm(r[2])}" / "${pyDecoded.preds[i]}"`).slice(0, 4).join(', '));
  // The view in the whole editor area for the screenshot (its group is the active one), then back beside metrics.py.
  await page.locator('.tabs-container .tab', { hasText: 'Predictions:' }).first().click({ timeout: T.short });
  await palette('View: Toggle Maximize Editor Group');
  await until('the prediction view maximized', async () => ((await page.locator('iframe.webview.ready').first().boundingBox().catch(() => null))?.width ?? 0) > 1000, T.short).catch(() => {});
  await screenshot('seq2seq-prediction-view');
  await palette('View: Toggle Maximize Editor Group');

  // ---- Issue 10: a breakpoint on a line inside compute_metrics, hit when the boundary continues.
  const bpLine = fixture.SEQ2SEQ_BP_LINE;
  await page.locator('.tabs-container .tab', { hasText: 'metrics.py' }).first().click({ timeout: T.short });
  await page.locator('.tabs-container .tab.active', { hasText: 'metrics.py' }).waitFor({ timeout: T.short });
  await goToLine(bpLine);
  await page.keyboard.press('F9');
  // The glyph of a bound (verified) breakpoint on that line: debugpy in the metric's process answered.
  const glyph = page.locator('.monaco-editor .codicon-debug-breakpoint:not(.codicon-debug-breakpoint-unverified)');
  const bound = await until('a verified breakpoint glyph in metrics.py', async () => (await glyph.count()) > 0, T.short).catch(() => false);
  const glyphs = await page.locator('[class*="debug-breakpoint"]').evaluateAll((es) => es.map((e) => e.className).join(' ; '));
  check(`the breakpoint on line ${bpLine} of metrics.py is verified (bound by debugpy)`, bound, glyphs);
  await screenshot('seq2seq-breakpoint-set');

  // The line number beside the editor's top-stack-frame highlight (both sit at the same height).
  const highlightedLine = () =>
    page.locator('.monaco-editor .debug-top-stack-frame-line').first().evaluate((h) => {
      const top = h.getBoundingClientRect().top;
      const n = Array.from(h.closest('.monaco-editor').querySelectorAll('.line-numbers')).find((x) => Math.abs(x.getBoundingClientRect().top - top) < 2);
      return n ? Number(n.textContent) : undefined;
    }, undefined, { timeout: 2000 }).catch(() => undefined);
  const lineOf = (stack) => Number((/metrics\.py\s+(\d+):\d+/.exec(stack) ?? [])[1]);
  const stopAtLine = async (what, line, stopsBefore) => {
    await until(`a stop after ${stopsBefore} (${what})`, () => stops() > stopsBefore, T.mid).catch(() => {});
    return until(`the call stack on metrics.py line ${line} (${what})`, async () => {
      const s = await callStack();
      return lineOf(s) === line && s;
    }, T.mid).catch(callStack);
  };
  const continueButton = page.locator('.debug-toolbar .codicon-debug-continue').first();
  let before = stops();
  await continueButton.click({ timeout: T.short });
  const atLine = await stopAtLine('the breakpoint', bpLine, before);
  check(`continue from the boundary stops on line ${bpLine} inside compute_metrics`, lineOf(atLine) === bpLine && /compute_metrics/.test(atLine), atLine.replace(/\n/g, ' | '));
  // The decoration follows the call stack by a moment: wait for it.
  const shownLine = await until(`the top-stack-frame highlight on line ${bpLine}`, async () => (await highlightedLine()) === bpLine, T.short).then(() => bpLine, highlightedLine);
  check(`the editor highlights line ${bpLine} as the stopped line`, shownLine === bpLine, `line ${shownLine}`);
  // The Variables view shows the frame's locals: decoded_preds assigned, decoded_labels not yet.
  const variablesText = async () => nbsp(await page.locator('.debug-variables').first().innerText({ timeout: 2000 }).catch(() => ''));
  const localsAt = (what, has, lacks) =>
    until(`the Variables view's locals ${what}`, async () => {
      const t = await variablesText();
      return /Locals/.test(t) && has.every((n) => new RegExp(`^${n} =`, 'm').test(t)) && lacks.every((n) => !new RegExp(`^${n} =`, 'm').test(t)) && t;
    }, T.short).catch(variablesText);
  const locals13 = await localsAt(`at line ${bpLine}`, ['eval_preds', 'preds', 'labels', 'decoded_preds'], ['decoded_labels']);
  check(`the Variables view shows compute_metrics's locals at line ${bpLine} (decoded_preds, not yet decoded_labels)`, /Locals/.test(locals13) && /^decoded_preds =/m.test(locals13) && !/^decoded_labels =/m.test(locals13), locals13.split('\n').slice(0, 7).join(' | '));
  await screenshot('seq2seq-line-stop');

  // The Debug Console evaluates Python in the paused frame.
  const replText = async () => nbsp(await page.locator('.repl').first().innerText({ timeout: 2000 }).catch(() => ''));
  const evaluate = async (expr, want) => {
    await page.locator('.repl .repl-input-wrapper .monaco-editor').first().click({ timeout: T.short });
    await page.keyboard.type(expr);
    await page.keyboard.press('Enter');
    return until(`the Debug Console's answer to ${expr}`, async () => {
      const t = await replText();
      return t.includes(want) && t;
    }, T.short).catch(replText);
  };
  const shape = `(${pyDecoded.shape.join(', ')})`;
  const shapeOut = await evaluate('eval_preds.predictions.shape', shape);
  check(`the Debug Console evaluates eval_preds.predictions.shape in the frame: ${shape} (numpy on predictions.npy)`, shapeOut.includes(shape), shapeOut.split('\n').slice(-3).join(' | '));
  // A sample whose generation decodes to words (not an empty string), as the view shows it.
  const k = Math.max(0, rows.findIndex((r) => norm(r[2])));
  const wantK = norm(rows[k]?.[2] ?? '');
  const quoted = `'${wantK}'`;
  const decodedOut = await evaluate(`decoded_preds[${k}]`, quoted);
  check(`the Debug Console shows decoded_preds[${k}], equal to the view's decoded prediction of sample ${k}`, !!wantK && decodedOut.includes(quoted), `want ${quoted}: ${decodedOut.split('\n').slice(-2).join(' | ')}`);
  await screenshot('seq2seq-debug-console');

  // Step over: the next line of compute_metrics (a plain call, then the exact-match line).
  before = stops();
  await page.locator('.debug-toolbar .codicon-debug-step-over').first().click({ timeout: T.short });
  const stepped = await stopAtLine('the step', bpLine + 1, before);
  check(`step over lands on line ${bpLine + 1}, the next line of compute_metrics`, lineOf(stepped) === bpLine + 1 && /compute_metrics/.test(stepped), stepped.replace(/\n/g, ' | '));
  const locals14 = await localsAt('after the step', ['decoded_labels'], []);
  check('after the step the Variables view shows decoded_labels, assigned by the line stepped over', /^decoded_labels =/m.test(locals14), locals14.split('\n').slice(0, 7).join(' | '));
  await screenshot('seq2seq-after-step');

  // Continue: the metric runs to its end and its metrics are printed; the session pauses at the boundary again.
  const metricsRe = (marker) => new RegExp(`"eval_exact_match":\\s*([0-9.]+).*"eval_marker":\\s*${marker}\\b`);
  before = stops();
  await continueButton.click({ timeout: T.short });
  const firstMetrics = await until('the seq2seq metrics in the Debug Console', async () => {
    const t = await replText();
    return metricsRe('1(\\.0)?').exec(t);
  }, T.mid).catch(() => null);
  // The oracle: exact match of the view's decoded strings (the TypeScript tokenizer), not the metric's own decode.
  const exact = rows.length ? rows.filter((r) => r[2].trim() === r[3].trim()).length / rows.length : NaN;
  check('continue runs compute_metrics to its end: the Debug Console prints eval_exact_match and eval_marker 1', !!firstMetrics && Math.abs(Number(firstMetrics[1]) - exact) < 1e-9, `${firstMetrics?.[0] ?? (await replText()).split('\n').slice(-3).join(' | ')}; exact match of the view's strings ${exact}`);
  await screenshot('seq2seq-metrics-after-continue');

  // Edit + save (marker 1.0 -> 2.5) while paused at the boundary: the rerun stops on the breakpoint, still bound.
  await until('a paused session again (the stop after the metric run)', () => stops() > before, T.mid).catch(() => {});
  await page.locator('.tabs-container .tab', { hasText: 'metrics.py' }).first().click({ timeout: T.short });
  await goToLine(fixture.SEQ2SEQ_MARKER_LINE);
  await page.keyboard.press('End');
  for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace');
  await page.keyboard.type('2.5');
  before = stops();
  await page.keyboard.press('Control+S');
  await until('metrics.py saved on disk', () => fs.readFileSync(path.join(ws, 'metrics.py'), 'utf8').includes('marker = 2.5'), T.short);
  const again = await stopAtLine('the rerun on save', bpLine, before);
  check(`saving reruns the metric with the breakpoint still bound: it stops on line ${bpLine} again`, lineOf(again) === bpLine, again.replace(/\n/g, ' | '));
  const localsAgain = await localsAt(`at line ${bpLine} in the rerun`, ['decoded_preds'], ['decoded_labels']);
  check('the rerun\'s line stop shows that frame\'s locals in the Variables view', /Locals/.test(localsAgain) && /^decoded_preds =/m.test(localsAgain), localsAgain.split('\n').slice(0, 5).join(' | '));
  await screenshot('seq2seq-rerun-line-stop');
  await continueButton.click({ timeout: T.short });
  const secondMetrics = await until('the new metrics (eval_marker 2.5)', async () => metricsRe('2\\.5').exec(await replText()), T.mid).catch(() => null);
  check('continue after the save prints the new metrics (eval_marker 2.5, the same exact match)', !!secondMetrics && Math.abs(Number(secondMetrics[1]) - exact) < 1e-9, secondMetrics?.[0] ?? (await replText()).split('\n').slice(-3).join(' | '));
  await screenshot('seq2seq-metrics-after-save');
  log(`seq2seq: questions asked ${asked.length}, cache ${cacheDir}`);
}
