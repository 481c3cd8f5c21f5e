// Golden snapshots of the Variables view (test/adapter/golden/*.txt), taken through a real DAP client from
// the BUNDLED adapter on deterministic fixtures: the three scopes, a tuple `predictions` two levels deep,
// a -100-padded `inputs` tensor with its lazy statistics and decoded text, and QA's tuple label_ids.
// The snapshots are for a reviewer to read; the numbers in them are also checked against NumPy's view of
// the cache the run wrote, so a snapshot cannot silently agree with a wrong adapter.
// Update after an intended change: EVALPRED_UPDATE_GOLDEN=1 (the run then fails on purpose; review git diff).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { runPython } from '../helpers/python';
import { qaWorkspace, seqClsWorkspace, tempDir, writeJsonl } from '../fixtures/workspace';
import { GEN_WORDS, writeSeq2SeqModel } from '../fixtures/generative';
import { withAdapter } from './client';
import { assertGolden, GoldenText, UPDATE_ENV } from './golden';

/** Wait for `p`, but no longer than `ms` (and leave no timer behind to hold the test process open). */
interface Stopped {
  dc: DebugClient;
  dir: string;
  cache: string;
  scopes: DebugProtocol.Scope[];
  golden: () => GoldenText;
}

/** Launch the bundled adapter on a workspace built in `dir`, wait for the stop at compute_metrics. */
async function atBoundary(build: (dir: string) => Record<string, unknown>, fn: (s: Stopped) => Promise<void>): Promise<void> {
  await withAdapter(async (dc, dir) => {
    const cache = path.join(dir, 'cache');
    const args = { ...build(dir), cache, cwd: dir };
    const stopped = dc.waitForEvent('stopped');
    const initialized = dc.waitForEvent('initialized');
    await dc.initializeRequest({ adapterID: 'evalpred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const launched = dc.launchRequest({ type: 'evalpred', request: 'launch', name: 'golden', ...args } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    await launched;
    await stopped;
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
    const fetch = async (a: DebugProtocol.VariablesArguments) => (await dc.variablesRequest(a)).body.variables;
    // Temp paths and wall-clock timings are the only unstable text in the tree.
    const sanitize = (s: string) => s.split(dir).join('${tmp}').replace(/\b\d+\.\d+ s\b/g, '<seconds> s').replace(/(runtimeSeconds: )[\d.e-]+/g, '$1<seconds>').replace(/\b[0-9a-f]{64}\b/g, '<sha256>');
    await fn({ dc, dir, cache, scopes, golden: () => new GoldenText(fetch, sanitize) });
  });
}

const named = async (dc: DebugClient, ref: number, name: string) => {
  const v = (await dc.variablesRequest({ variablesReference: ref })).body.variables.find((x) => x.name === name);
  assert.ok(v, `no variable ${name}`);
  return v;
};

/** NumPy's reading of the cache: every array of the EvalPrediction as nested lists, keyed by its path. */
function numpyView(cache: string): Record<string, unknown> {
  const code = `import json, numpy as np
m = json.load(open('manifest.json'))['eval_prediction']
out = {}
def walk(node, name):
    if node is None: return
    if 'npy' in node: out[name] = np.load(node['npy']).tolist(); return
    for i, n in enumerate(node.get('tuple', node.get('list', []))): walk(n, '%s[%d]' % (name, i))
for k, v in m.items(): walk(v, k)
print(json.dumps(out))`;
  return JSON.parse(runPython(code, ['numpy'], cache)) as Record<string, unknown>;
}

let seqClsTexts: string[] = [];
const seqClsArgs = (dir: string) => {
  const ws = seqClsWorkspace(dir, { n: 10, extraOutputs: true });
  seqClsTexts = ws.texts;
  return { model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs'] };
};

// One adapter session (one model run) serves the three seqCls snapshots.
test('golden: seqClsWorkspace with tuple outputs and inputs, paused at compute_metrics', (t) =>
  atBoundary(seqClsArgs, async ({ dc, cache, scopes, golden }) => {
    await t.test('the three scopes, and what sample and run hold', async () => {
      assert.deepEqual(scopes.map((s) => s.name), ['eval_pred', 'sample', 'run']);
      const g = golden();
      g.log('# Scopes when paused at compute_metrics(eval_pred): seqClsWorkspace (10 rows, batch 4, tuple outputs, inputs included)');
      g.scopes(scopes);
      g.log('');
      g.log('# sample (row 0 of every field)');
      await g.children(scopes[1].variablesReference);
      g.log('');
      g.log('# run (expensive scope: fetched only when opened)');
      await g.children(scopes[2].variablesReference, { depth: 3, expand: (v) => ['settings', 'notes', 'lints'].includes(v.name) });
      assertGolden('scopes', g.text());
    });

    await t.test('eval_pred with a tuple prediction, expanded two levels; predictions[0] opened', async () => {
      const g = golden();
      g.log('# eval_pred: predictions is a tuple (logits, pooled) because the model returns two outputs');
      await g.children(scopes[0].variablesReference, { depth: 2 });
      g.log('');
      g.log('# predictions[0] (the logits) opened: named children first, then the rows');
      const preds = await named(dc, scopes[0].variablesReference, 'predictions');
      const members = (await dc.variablesRequest({ variablesReference: preds.variablesReference, filter: 'indexed', start: 0, count: 2 })).body.variables;
      await g.variable(members[0], { depth: 1 });
      const text = g.text();
      assertGolden('eval-pred-tuple', text);

      // Independent of the snapshot: the row values shown are NumPy's, to float32 precision.
      const np = numpyView(cache);
      const logits = np['predictions[0]'] as number[][];
      for (let i = 0; i < logits.length; i++) {
        const line = text.split('\n').find((l) => l.includes(`eval=predictions[0][${i}]`));
        assert.ok(line, `row ${i} of predictions[0] missing`);
        const shown = JSON.parse(/: (\[[^\]]*\])/.exec(line)![1]) as number[];
        shown.forEach((x, j) => assert.ok(Math.abs(x - logits[i][j]) < 1e-6, `predictions[0][${i}][${j}]: ${x} vs ${logits[i][j]}`));
      }
    });

    await t.test('a ragged -100-padded inputs tensor, its first page, lazy statistics and decoded rows', async () => {
      const inputs = await named(dc, scopes[0].variablesReference, 'inputs');
      const g = golden();
      g.log('# inputs (include_for_metrics=["inputs"]): batches of different lengths padded with -100 when concatenated');
      await g.variable(inputs, { depth: 1 });
      const namedKids = (await dc.variablesRequest({ variablesReference: inputs.variablesReference, filter: 'named' })).body.variables;
      const stats = namedKids.find((v) => v.name === 'statistics')!;
      g.log('');
      g.log('# inputs › statistics clicked (lazy: computed only now)');
      await g.variable(stats, { depth: 2 });
      const rows = (await dc.variablesRequest({ variablesReference: inputs.variablesReference, filter: 'indexed', start: 0, count: 2 })).body.variables;
      for (const row of rows) {
        g.log('');
        g.log(`# inputs${row.name} opened, with decoded and statistics clicked`);
        await g.variable(row, { depth: 2, expand: (v) => v.presentationHint?.lazy === true });
      }
      const text = g.text();
      assertGolden('inputs-padded', text);

      // The -100 count and the row contents agree with NumPy.
      const x = numpyView(cache).inputs as number[][];
      const pad = x.flat().filter((v) => v === -100).length;
      assert.ok(pad > 0, 'the fixture must produce ragged batches');
      assert.match(text, new RegExp(`-100 ×${pad}\\b`));
      assert.ok(text.includes(`> [1]: [${x[1].join(', ')}]`), `row 1 should read [${x[1].join(', ')}]`);
      // Decoded rows are the fixture's own sentences (the tokenizer lowercases; the sentences already are).
      for (const i of [0, 1]) assert.ok(text.includes(`decoded: '${seqClsTexts[i]}'  // eval=decode(inputs[${i}])`), `decoded row ${i}`);
    });
  }));

test('golden: extractive QA label_ids are a (start_positions, end_positions) tuple', () =>
  atBoundary(
    (dir) => {
      const ws = qaWorkspace(dir, { n: 6 });
      return { model: ws.modelDir, dataset: ws.dataset, batchSize: 4 };
    },
    async ({ dc, cache, scopes, golden }) => {
      const labels = await named(dc, scopes[0].variablesReference, 'label_ids');
      const g = golden();
      g.log('# label_ids of an extractive QA run: (start_positions, end_positions), one token index per sample');
      await g.variable(labels, { depth: 2 });
      const text = g.text();
      assertGolden('qa-label-ids', text);

      const np = numpyView(cache);
      for (const k of [0, 1]) {
        const col = np[`label_ids[${k}]`] as number[];
        col.forEach((v, i) => assert.ok(text.includes(`  [${i}]: ${v}  // eval=label_ids[${k}][${i}]`), `label_ids[${k}][${i}] = ${v}`));
      }
    },
  ));

test('golden: num_return_sequences 2 with 3 beams: predictions says how its N·n rows group, the sample lists its sequences', () =>
  atBoundary(
    (dir) => {
      const modelDir = path.join(dir, 'model');
      writeSeq2SeqModel(modelDir, 'three-file', { seed: 4, eosSlope: 1.0, eosFrom: 4, generationConfig: { max_length: 7 } });
      const rows = Array.from({ length: 4 }, (_, i) => ({ q: GEN_WORDS.slice(i, i + 2 + (i % 2)).join(' '), a: GEN_WORDS.slice(i + 1, i + 3).join(' ') }));
      const dataset = writeJsonl(path.join(dir, 'd.jsonl'), rows);
      return { model: modelDir, dataset, batchSize: 4, predictWithGenerate: true, numBeams: 3, numReturnSequences: 2, textColumn: 'q', labelColumn: 'a' };
    },
    async ({ dc, cache, scopes, golden }) => {
      const preds = await named(dc, scopes[0].variablesReference, 'predictions');
      const g = golden();
      g.log('# predictions of a generate() run with num_return_sequences=2: 4 samples, 8 rows, each sample\'s 2 together, best first');
      await g.variable(preds, { depth: 1 });
      g.log('');
      g.log('# sample (row 0): its prediction (the best), its sequences expanded, its block of prediction rows');
      await g.children(scopes[1].variablesReference, { depth: 2, expand: (v) => v.name === 'sequences' });
      const text = g.text();
      assertGolden('return-sequences', text);

      // Independent of the snapshot: the rows are NumPy's, and each sequence is the Debug Console's decode of its row.
      const np = numpyView(cache).predictions as number[][];
      assert.equal(np.length, 8);
      np.forEach((row, k) => assert.ok(text.includes(`> [${k}]: [${row.join(', ')}]  (sample ${Math.floor(k / 2)}, #${(k % 2) + 1} of 2)`), `predictions row ${k}`));
      assert.match(text, /> predictions: int64\[8, \d+\]  \(4·2 rows: num_return_sequences=2 per sample, best first; sample i is rows i\*2 to i\*2\+1\)/);
      const frameId = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id;
      for (const k of [0, 1]) {
        const decoded = (await dc.evaluateRequest({ expression: `decode(predictions[${k}])`, frameId, context: 'repl' })).body.result;
        assert.ok(text.includes(`  #${k + 1}: ${JSON.stringify(decoded.replace(/^'|'$/g, ''))}  // eval=decode(predictions[${k}])`), `sequence #${k + 1} is ${decoded}`);
      }
    },
  ));

test('the golden helper fails on a difference, and EVALPRED_UPDATE_GOLDEN=1 writes the file but still fails', () => {
  const dir = tempDir();
  const saved = process.env[UPDATE_ENV];
  try {
    delete process.env[UPDATE_ENV];
    assert.throws(() => assertGolden('x', 'a\n', dir), /does not exist/);
    fs.writeFileSync(path.join(dir, 'x.txt'), 'a\n');
    assertGolden('x', 'a\n', dir);
    assert.throws(() => assertGolden('x', 'b\n', dir), /differs from .*x\.txt/);
    process.env[UPDATE_ENV] = '1';
    assert.throws(() => assertGolden('x', 'b\n', dir), /wrote .*x\.txt/);
    assert.equal(fs.readFileSync(path.join(dir, 'x.txt'), 'utf8'), 'b\n');
    // Stable ids: the same reference keeps its id, new ones count up from @1 in order of first sight.
    const g = new GoldenText(async () => []);
    assert.deepEqual([g.id(907), g.id(12), g.id(907)], ['@1', '@2', '@1']);
  } finally {
    if (saved === undefined) delete process.env[UPDATE_ENV];
    else process.env[UPDATE_ENV] = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
