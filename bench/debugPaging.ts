// Variables-view paging on a 1,000,000 x 2 float32 prediction cache, through the bundled debug adapter:
// time from the stop to the first page of rows, the time of later pages, and the adapter's RSS before
// and after expanding 200 pages spread over the tensor (rows are views on the cached array, so RSS should
// stay flat rather than grow with the rows shown). Run `node esbuild.mjs` first (dist/debugAdapter.js).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../src/core/cache/store';
import { distFile } from '../src/core/paths';
import { Tensor } from '../src/core/tensor/tensor';
import { DapRequests, StatsArguments, StatsResponse } from '../src/shared/dapProtocol';
import { median, printTable } from './util';

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PAGES = 200;

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-'));
  // --expose-gc so both memory readings are taken after a full collection (garbage is not growth).
  const dc = new DebugClient('node', distFile('debugAdapter.js'), 'evalpred', { env: { ...process.env, NODE_OPTIONS: '--expose-gc' } });
  dc.defaultTimeout = 60_000;
  try {
    const data = new Float32Array(N * 2);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i);
    const cache = path.join(dir, 'cache');
    writeCache(cache, { predictions: new Tensor('float32', [N, 2], data), labelIds: null, inputs: null, losses: null }, { numSamples: N, key: 'bench-paging', producer: {} });

    await dc.start();
    const stopped = dc.waitForEvent('stopped');
    const initialized = dc.waitForEvent('initialized');
    await dc.initializeRequest({ adapterID: 'evalpred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const launched = dc.launchRequest({ cache } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    await launched;
    await stopped;
    const stats = async () => (await dc.customRequest(DapRequests.Stats, { gc: true } satisfies StatsArguments)).body as StatsResponse;
    const before = await stats();

    const t0 = performance.now();
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    const scope = (await dc.scopesRequest({ frameId: frame.id })).body.scopes[0];
    const fields = (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables;
    const preds = fields.find((v) => v.name === 'predictions')!;
    await dc.variablesRequest({ variablesReference: preds.variablesReference, filter: 'indexed', start: 0, count: 100 });
    const firstPage = performance.now() - t0;

    const times: number[] = [];
    for (let p = 0; p < PAGES; p++) {
      const start = Math.floor(((N - 100) * p) / (PAGES - 1));
      const t = performance.now();
      await dc.variablesRequest({ variablesReference: preds.variablesReference, filter: 'indexed', start, count: 100 });
      times.push(performance.now() - t);
    }
    const after = await stats();
    const mb = (b: number) => b / 1024 / 1024;
    const tensorMb = mb(N * 2 * 4);
    printTable(`debug adapter paging, float32[${N}, 2] (${tensorMb.toFixed(1)} MB of predictions)`, [
      ['stop -> first page of 100 rows', firstPage, '', firstPage < 200 ? 'ok (< 200 ms)' : 'SLOW'],
      [`later pages (median of ${PAGES})`, median(times), '', ''],
    ]);
    // Rows shown keep a small handle each until the next stop (DAP references must stay valid); what must
    // not happen is memory in proportion to the tensor (1M rows) rather than to the rows shown.
    const shown = PAGES * 100;
    const perRow = (after.heapUsed - before.heapUsed) / shown;
    printTable('adapter memory (after a full GC)', [
      ['RSS before expanding', mb(before.rss), '', ''],
      [`RSS after ${PAGES} pages (${shown} rows)`, mb(after.rss), `${(after.rss / before.rss).toFixed(2)}x`, ''],
      ['JS heap before', mb(before.heapUsed), '', ''],
      [`JS heap after ${PAGES} pages`, mb(after.heapUsed), '', ''],
    ], 'MB');
    printTable('per row shown', [['JS heap growth', perRow, '', perRow < 1024 ? 'ok (< 1 KB: handles, no copies)' : 'TOO MUCH']], 'B');
  } finally {
    await dc.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
