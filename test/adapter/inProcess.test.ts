// The same EvalpredSession class, run the three ways the extension and developers run it, each driven by
// a real DAP client over TCP through launch -> stop -> variables -> continue -> metrics:
//   1. inline, in THIS process, talking only through the vscode.DebugAdapter interface
//      (handleMessage / onDidSendMessage), exactly what VS Code's DebugAdapterInlineImplementation does
//      with the object adapterFactory.ts hands it (no start(), no streams);
//   2. in this process behind a 127.0.0.1 TCP server with session.start(socket, socket), as
//      adapterMain.ts's `--server=PORT` does;
//   3. the bundled dist/debugAdapter.js with `--server=0`, reading the port it reports.
// In-process, a session must never call process.exit (it would take the extension host down): checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { distFile } from '../../src/core/paths';
import { EvalpredSession } from '../../src/debug/session';
import { runPython } from '../helpers/python';

import { seqClsWorkspace, tempDir } from '../fixtures/workspace';

/** Wait for `p`, but no longer than `ms` (and leave no timer behind to hold the test process open). */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

const TIMEOUT = 30000; // DebugClient disables its own timeouts when connected to a port

/** DAP's wire framing (Content-Length header + JSON), for the inline bridge. */
function frame(msg: unknown): string {
  const json = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`;
}

function onFrames(socket: net.Socket, handle: (msg: DebugProtocol.ProtocolMessage) => void): void {
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const sep = buf.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const len = Number(/Content-Length: *(\d+)/i.exec(buf.toString('utf8', 0, sep))?.[1]);
      if (buf.length < sep + 4 + len) return;
      const body = buf.toString('utf8', sep + 4, sep + 4 + len);
      buf = buf.subarray(sep + 4 + len);
      handle(JSON.parse(body));
    }
  });
}

type Mode = 'inline' | 'server';

/** A 127.0.0.1 server on a free port that makes one EvalpredSession per connection, in this process. */
async function serveInProcess(mode: Mode): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const session = new EvalpredSession();
    if (mode === 'server') {
      session.setRunAsServer(true);
      session.start(socket, socket);
      return;
    }
    // What DebugAdapterInlineImplementation does: subscribe to onDidSendMessage, feed handleMessage.
    const sub = session.onDidSendMessage((m) => {
      if (!socket.destroyed) socket.write(frame(m));
    });
    onFrames(socket, (m) => session.handleMessage(m));
    socket.on('close', () => {
      sub.dispose();
      session.dispose();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return { port, close };
}

/** dist/debugAdapter.js --server=0, resolved with the port it reports on stderr. */
function spawnServerAdapter(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [distFile('debugAdapter.js'), '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the adapter did not report a port: ${err}`)), 10000);
    child.stderr!.on('data', (d) => {
      err += String(d);
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), child });
      }
    });
    child.on('exit', (code) => reject(new Error(`the adapter exited (${code}) before listening: ${err}`)));
  });
}

const METRIC = `export function computeMetrics(evalPred: any) {
  const preds = evalPred.predictions.argmax(-1);
  const labels = evalPred.labelIds;
  let hit = 0;
  for (let i = 0; i < labels.shape[0]; i++) if (preds.get(i) === labels.get(i)) hit++;
  return { accuracy: hit / labels.shape[0] };
}
`;

/** launch -> stop at the boundary -> variables -> continue -> metrics, against a client on `port`. */
async function launchStopVariablesContinue(port: number): Promise<void> {
  const dir = tempDir();
  const dc = new DebugClient('node', 'unused', 'evalpred');
  await dc.start(port);
  try {
    const ws = seqClsWorkspace(dir, { n: 7 });
    const metricFile = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metricFile, METRIC);
    const cache = path.join(dir, 'cache');
    const outputs: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));

    const initialized = dc.waitForEvent('initialized');
    const stopped = dc.waitForEvent('stopped');
    const init = await dc.initializeRequest({ adapterID: 'evalpred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    assert.equal(init.body?.supportsConfigurationDoneRequest, true);
    const launched = dc.launchRequest({ type: 'evalpred', request: 'launch', name: 'in-process', model: ws.modelDir, dataset: ws.dataset, metrics: metricFile, cache, batchSize: 3 } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    await launched;
    assert.equal(((await stopped) as DebugProtocol.StoppedEvent).body.reason, 'breakpoint');

    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(frame.source?.path, metricFile);
    assert.equal(frame.line, 1); // `export function computeMetrics` is line 1 of METRIC
    const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
    assert.deepEqual(scopes.map((s) => s.name), ['evalPred', 'sample', 'run'], 'the EvalPrediction scope is named as the function names its parameter');
    const ep = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    const preds = ep.find((v) => v.name === 'predictions')!;
    assert.equal(preds.value, 'float32[7, 3]');
    const labels = ep.find((v) => v.name === 'label_ids')!;
    const rows = (await dc.variablesRequest({ variablesReference: labels.variablesReference, filter: 'indexed', start: 0, count: 7 })).body.variables;
    assert.deepEqual(rows.map((r) => r.value), ['0', '1', '2', '0', '1', '2', '0']); // fixture labels: i % 3

    // Expected accuracy from NumPy on the cache the run wrote.
    const acc = Number(runPython(`import json, numpy as np\nm=json.load(open('manifest.json'))['eval_prediction']\np=np.load(m['predictions']['npy']); l=np.load(m['label_ids']['npy'])\nprint(repr(float(np.mean(np.argmax(p,-1)==l))))`, ['numpy'], cache));
    const again = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await again; // after the metric the session pauses at the boundary again, ready for edits
    const line = outputs.find((s) => s.startsWith('metrics'));
    assert.ok(line, `no metrics output in ${JSON.stringify(outputs)}`);
    const metrics = JSON.parse(line.slice(line.indexOf('{'), line.lastIndexOf('}') + 1)) as Record<string, number>;
    assert.ok(Math.abs(metrics.eval_accuracy - acc) < 1e-12, `eval_accuracy ${metrics.eval_accuracy} vs NumPy ${acc}`);

    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest();
    await terminated;
  } finally {
    // disconnect, then end the socket (bounded: the client has no timeouts in port mode)
    await atMost(dc.stop().catch(() => undefined), 3000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Run `fn` with process.exit replaced by a recorder; returns the exit codes it was asked for. */
async function withExitCallsRecorded(fn: () => Promise<void>): Promise<unknown[]> {
  const calls: unknown[] = [];
  const real = process.exit;
  process.exit = ((code?: unknown) => {
    calls.push(code);
  }) as typeof process.exit;
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 300)); // DebugSession.shutdown exits after 100 ms when it thinks it owns the process
  } finally {
    process.exit = real;
  }
  return calls;
}

for (const mode of ['inline', 'server'] as const) {
  const how = mode === 'inline' ? 'through handleMessage/onDidSendMessage (DebugAdapterInlineImplementation)' : 'with session.start(socket, socket) (as --server)';
  test(`in this process, ${how}: launch -> stop -> variables -> continue -> metrics, and no process.exit`, { timeout: TIMEOUT }, async () => {
    const srv = await serveInProcess(mode);
    try {
      const exits = await withExitCallsRecorded(() => launchStopVariablesContinue(srv.port));
      assert.deepEqual(exits, [], 'an in-process session must not exit the host process');
    } finally {
      await srv.close();
    }
  });
}

test('dist/debugAdapter.js --server=0 reports the free port it bound, and serves the same flow', { timeout: TIMEOUT }, async () => {
  const { port, child } = await spawnServerAdapter();
  try {
    assert.ok(port > 0, `reported port ${port}`);
    await launchStopVariablesContinue(port);
    assert.equal(child.exitCode, null, 'the server outlives a session');
  } finally {
    child.kill();
  }
});
