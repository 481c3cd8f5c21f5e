// The Debug Console evaluates in slices off the adapter's message loop (issue 9, item 4): a request sent while a
// long evaluation runs is answered before it finishes, a newer evaluation or continue cancels it, disconnect
// during one ends the adapter cleanly; `help` lists every built-in from the one table; bad paging is refused.
// Order of responses is asserted, never durations: the client waits a little before the second request only so
// that it lands while the (multi-second) evaluation is under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { BUILTINS } from '../../src/core/expr';
import { Tensor } from '../../src/core/tensor/tensor';
import { launch, withAdapter } from './client';

const ROWS = 1000;
const COLS = 500;
const TERMS = 100;
/** TERMS - 1 element-wise additions of 500,000 elements each, then a sum: seconds of work for the adapter. */
const LONG = `sum(${Array(TERMS).fill('predictions').join(' + ')})`;
/** predictions[i] = i % 5, so sum(predictions) = 500,000 / 5 * (0 + 1 + 2 + 3 + 4) and LONG is TERMS times that. */
const LONG_VALUE = TERMS * (ROWS * COLS / 5) * 10;

async function pausedOnBigCache(dc: DebugClient, dir: string): Promise<void> {
  const data = new Float32Array(ROWS * COLS);
  for (let i = 0; i < data.length; i++) data[i] = i % 5;
  const cache = path.join(dir, 'cache');
  writeCache(cache, { predictions: new Tensor('float32', [ROWS, COLS], data), labelIds: Tensor.from('int64', [ROWS], new Array(ROWS).fill(1)), inputs: null, losses: null }, { numSamples: ROWS, key: 'slices-test', producer: {} });
  const stopped = dc.waitForEvent('stopped');
  await launch(dc, { cache });
  await stopped;
}

const inFlight = () => new Promise((r) => setTimeout(r, 300));
const repl = (dc: DebugClient, expression: string) => dc.evaluateRequest({ expression, context: 'repl' });
const adapterProcess = (dc: DebugClient) => (dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess;

test('a threads request sent during a long evaluation is answered before the evaluation finishes; the result is right', () =>
  withAdapter(async (dc, dir) => {
    await pausedOnBigCache(dc, dir);
    const order: string[] = [];
    const long = repl(dc, LONG).then((r) => (order.push('evaluate'), r));
    await inFlight();
    const threads = await dc.threadsRequest();
    order.push('threads');
    assert.equal(threads.body.threads.length, 1);
    const stack = await dc.stackTraceRequest({ threadId: 1 });
    order.push('stackTrace');
    assert.ok(stack.body.stackFrames.length >= 1);
    const r = await long;
    assert.deepEqual(order, ['threads', 'stackTrace', 'evaluate']);
    assert.equal(Number(r.body.result), LONG_VALUE);
  }));

test('a newer evaluation cancels the running one; continue cancels one too', () =>
  withAdapter(async (dc, dir) => {
    await pausedOnBigCache(dc, dir);
    const first = repl(dc, LONG).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    await inFlight();
    const second = await repl(dc, 'len(label_ids)');
    assert.equal(second.body.result, String(ROWS));
    assert.match(await first, /evaluation cancelled: a newer expression was evaluated/);

    const third = repl(dc, LONG).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    await inFlight();
    await dc.continueRequest({ threadId: 1 });
    assert.match(await third, /evaluation cancelled: the run continued/);
  }));

test('disconnect during a long evaluation ends the adapter cleanly (exit code 0)', () =>
  withAdapter(async (dc, dir) => {
    await pausedOnBigCache(dc, dir);
    const proc = adapterProcess(dc);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const running = repl(dc, LONG).catch(() => undefined);
    await inFlight();
    await dc.disconnectRequest({});
    assert.equal(await exited, 0);
    void running;
  }));

test('help lists every built-in of the expression table; variables paging refuses negative, fractional and clamps huge', () =>
  withAdapter(async (dc, dir) => {
    await pausedOnBigCache(dc, dir);
    const help = (await repl(dc, 'help')).body.result;
    for (const b of BUILTINS) {
      assert.ok(help.includes(b.usage), `help lacks ${b.usage}`);
      assert.ok(help.includes(b.description), `help lacks the description of ${b.name}`);
    }
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    const scope = (await dc.scopesRequest({ frameId: frame.id })).body.scopes[0];
    const preds = (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables.find((v) => v.name === 'predictions');
    assert.ok(preds);
    const page = (args: Partial<DebugProtocol.VariablesArguments>) =>
      dc.variablesRequest({ variablesReference: preds.variablesReference, filter: 'indexed', ...args }).then(
        (r) => r.body.variables.length,
        (e: Error) => e.message,
      );
    assert.match(String(await page({ start: -1, count: 5 })), /"start" must be a whole number >= 0, got -1/);
    assert.match(String(await page({ start: 0.5, count: 5 })), /"start" must be a whole number >= 0, got 0\.5/);
    assert.match(String(await page({ start: 0, count: -2 })), /"count" must be a whole number >= 0, got -2/);
    assert.equal(await page({ start: 0, count: 1e12 }), ROWS, 'a huge count is clamped to what exists (at most one page)');
    assert.equal(await page({ start: 10, count: 5 }), 5);
  }));
