// The child process that runs a user's TS/JS compute_metrics (bundled by the host with esbuild). A
// process, not a worker thread, so a runaway metric meets the OS memory limit and takes down only itself
// (see containment.ts). It stays warm: the compiled module and the EvalPrediction tensors are kept
// between runs and replaced only when the host sends new ones (the cache is read here, from its folder,
// so no tensor bytes cross the pipe). Every run gets fresh copies of the tensors, so a metric that edits
// its arrays in place (legal under Trainer, which never reruns) cannot leak into the next rerun.
import Module from 'node:module';
import path from 'node:path';
import util from 'node:util';
import { readCache } from '../cache/store';
import { Tensor, TensorNode, EvalPredictionData } from '../tensor/tensor';
import { TensorData } from '../tensor/dtype';
import { WireEvalPred, WireNode, evalPredFromWire, evalPredToWire, fromWire, toWire } from '../tensor/transfer';
import { BatchCall, batchFields } from './batchCalls';
import { NodeView, PlainFields, buildEvalPredView, nodeView } from './evalPredView';
import { postprocessedQa } from './qaPostprocess';
import { previewTensor } from '../expr/values';
import type { Described } from './postprocess';
import type { ToWorker, FromWorker, WorkerError } from './jsRunner';

process.setSourceMapsEnabled(true);

// Line debugging (README "Debugging your metric"): the debug adapter asked for the Node inspector. It is
// opened here, on the loopback interface at a free port, rather than with --inspect on the command line, so
// that a process the metric forks does not inherit an inspector flag (and wait for a debugger that never comes).
const inspectorUrl = process.env.EVALPRED_INSPECT === '1' ? openInspector() : undefined;

function openInspector(): string | { error: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const inspector = require('node:inspector') as typeof import('node:inspector');
    inspector.open(0, '127.0.0.1', false);
    const g = globalThis as Record<string, unknown>;
    // What the adapter's logpoints call: the inspector's console reaches the debugger only, not the run's output.
    g.__evalpredLogpoint = inspector.console.log;
    // The one-line tensor summary the adapter shows for a Tensor in Variables and evaluate results.
    // Duck-typed: the library behind `evalpred/metrics` bundled into the metric has its own Tensor class.
    g.__evalpredDescribe = (v: unknown) => {
      if (v instanceof Tensor) return tensorText(v);
      const t = v as { dtype?: unknown; shape?: unknown; data?: unknown };
      if (t && typeof t.dtype === 'string' && Array.isArray(t.shape) && ArrayBuffer.isView(t.data)) {
        try {
          return tensorText(new Tensor(t.dtype as Tensor['dtype'], t.shape as number[], t.data as Tensor['data']));
        } catch {
          return undefined;
        }
      }
      return undefined;
    };
    return inspector.url() ?? { error: 'the inspector gave no address' };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function tensorText(t: Tensor): string {
  return t.size <= 1_000_000 || t.ndim <= 1 ? `${t.toString()} ${previewTensor(t)}` : t.toString();
}

/**
 * Call the metric with no try/catch of ours on the stack, so that V8 sees an exception leaving it as uncaught
 * (the debugger's "Uncaught Exceptions" filter stops there, in the user's frame); the error still comes back
 * here, through Node's uncaughtException / unhandledRejection events.
 */
function callUncaught(fn: (...a: unknown[]) => unknown, args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fail = (e: unknown) => {
      done();
      reject(e);
    };
    const done = () => {
      process.off('uncaughtException', fail);
      process.off('unhandledRejection', fail);
    };
    process.on('uncaughtException', fail);
    process.on('unhandledRejection', fail);
    setImmediate(() => {
      const r = fn(...args);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        // No rejection handler: a rejection stays unhandled for V8 and arrives through unhandledRejection.
        void (r as Promise<unknown>).then((v) => {
          done();
          resolve(v);
        });
      } else {
        done();
        resolve(r);
      }
    });
  });
}

/** A Debug Console line at the boundary: JavaScript with the module's exports, and the EvalPrediction under `param`. */
function evaluateLine(expression: string, param: string, ep: unknown, exports: Record<string, unknown>, batch?: BatchCall): unknown {
  const names: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exports)) if (/^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default') names[k] = v;
  names.evalPred = ep;
  if (batch) names.computeResult = names.compute_result = batch.computeResult;
  if (/^[A-Za-z_$][\w$]*$/.test(param)) names[param] = ep;
  names.require = loadedRequire;
  const keys = Object.keys(names);
  // A sloppy-mode function with the names as parameters: the direct eval sees them, and statements work too.
  const f = new Function(...keys, '__evalpredLine', 'return eval(__evalpredLine)') as (...a: unknown[]) => unknown;
  return f(...keys.map((k) => names[k]), expression);
}

function shownValue(v: unknown): { value: string; type: string } {
  if (v instanceof Tensor) return { value: tensorText(v), type: 'Tensor' };
  const type = v === null ? 'null' : Array.isArray(v) ? 'Array' : typeof v === 'object' ? (Object.getPrototypeOf(v)?.constructor?.name ?? 'Object') : typeof v;
  if (typeof v === 'string') return { value: JSON.stringify(v), type };
  return { value: util.inspect(v, { depth: 2, maxArrayLength: 20, breakLength: 120 }), type };
}

let loaded: { key: string; exports: Record<string, unknown>; file: string } | undefined;
/** `plain`: a run_qa doc-stride cache's post-processed answers and references, which replace the arrays. */
let data: { key: string; wire: WireEvalPred; plain?: PlainFields } | undefined;

// Capture what the user prints (console.* writes through these streams), keeping at most the output cap
// and counting the rest, so 100 MB of prints costs 1 MB here and on the pipe.
const OUTPUT_CAP = Number(process.env.EVALPRED_OUTPUT_CAP) || 1024 * 1024;
let captured: { parts: string[]; bytes: number; dropped: number } | undefined;
for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (captured) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      const n = Buffer.byteLength(text, 'utf8');
      const room = OUTPUT_CAP - captured.bytes;
      if (n <= room) {
        captured.parts.push(text);
        captured.bytes += n;
      } else {
        const kept = room > 0 ? Buffer.from(text, 'utf8').subarray(0, room).toString('utf8').replace(/\uFFFD$/, '') : '';
        captured.parts.push(kept);
        captured.bytes = OUTPUT_CAP;
        captured.dropped += n - Buffer.byteLength(kept, 'utf8');
      }
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
}

// Did the metric start a process since the last reply? Then the host looks for leftovers beyond the worker's
// own children (containment.ts); otherwise a look at its children is enough.
let spawned = false;
{
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cp = require('node:child_process') as Record<string, unknown>;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    const original = cp[name] as (...a: unknown[]) => unknown;
    cp[name] = function (this: unknown, ...args: unknown[]) {
      spawned = true;
      return original.apply(this, args);
    };
  }
}

function printed(): string {
  if (!captured) return '';
  const text = captured.parts.join('');
  return captured.dropped ? `${text}\n… ${captured.dropped} bytes more not shown\n` : text;
}

let loadedRequire: ((id: string) => unknown) | undefined;

function loadModule(code: string, filename: string): Record<string, unknown> {
  const m = new Module(filename);
  m.filename = filename;
  // Bare imports left at run time resolve from the user's folder, as if the file lived there.
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(path.dirname(filename));
  (m as unknown as { _compile(c: string, f: string): void })._compile(code, filename);
  loadedRequire = (id: string) => m.require(id);
  return m.exports as Record<string, unknown>;
}

// The working copy each run sees, allocated once per EvalPrediction and refilled from the pristine arrays
// before every run: copying into existing memory is ~10x faster than allocating fresh arrays (no page faults).
let working: { key: string; wire: WireEvalPred } | undefined;

function allocateLike(node: WireNode): WireNode {
  // A file-backed array is opened afresh at every run (fromWire): a metric's set() edits only its copy.
  if ('f' in node) return node;
  if ('t' in node) return { t: node.t, s: node.s, d: new (node.d.constructor as new (n: number) => TensorData)(node.d.length) };
  return 'tuple' in node ? { tuple: node.tuple.map(allocateLike) } : { list: node.list.map(allocateLike) };
}

function refill(dst: WireNode, src: WireNode): void {
  if ('d' in dst && 'd' in src) (dst.d as Float32Array).set(src.d as Float32Array);
  else if ('tuple' in dst && 'tuple' in src) dst.tuple.forEach((d, i) => refill(d, src.tuple[i]));
  else if ('list' in dst && 'list' in src) dst.list.forEach((d, i) => refill(d, src.list[i]));
}

function freshEvalPred(pristine: { key: string; wire: WireEvalPred }): EvalPredictionData {
  const keys = ['predictions', 'labelIds', 'inputs', 'losses'] as const;
  const b = pristine.wire.batchInputs;
  if (working?.key !== pristine.key) {
    const wire = {} as WireEvalPred;
    for (const k of keys) wire[k] = pristine.wire[k] ? allocateLike(pristine.wire[k]!) : null;
    if (b) wire.batchInputs = { keys: b.keys, main: b.main, lists: Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, allocateLike(n)])) };
    working = { key: pristine.key, wire };
  }
  for (const k of keys) if (working.wire[k]) refill(working.wire[k]!, pristine.wire[k]!);
  if (b) for (const [k, n] of Object.entries(working.wire.batchInputs!.lists)) refill(n, b.lists[k]);
  return evalPredFromWire(working.wire);
}

/**
 * The whole EvalPrediction, or for one batch_eval_metrics call that batch's entry of every field (batchCalls.ts),
 * with `inputs` the batch mapping as Trainer hands it ({input_ids, attention_mask, ...} in the collator's order when
 * the cache keeps them, docs/cache-format.md#batch-inputs; else {input_ids}).
 */
function callEvalPred(ep: EvalPredictionData, batch: BatchCall | undefined): { ep: EvalPredictionData; inputs?: Record<string, NodeView> } {
  if (!batch) return { ep };
  const f = batchFields({ predictions: ep.predictions, labelIds: ep.labelIds, inputs: ep.inputs, losses: ep.losses }, batch.index);
  const one = { predictions: f.predictions, labelIds: f.labelIds, inputs: f.inputs, losses: f.losses };
  if (!f.inputs) return { ep: one };
  const b = ep.batchInputs;
  const others = b ? batchFields(b.lists, batch.index) : {};
  const keys = b ? b.keys : ['input_ids'];
  const main = b ? b.main : 'input_ids';
  const inputs: Record<string, NodeView> = {};
  for (const k of keys) inputs[k] = nodeView(k === main ? f.inputs : others[k]!);
  return { ep: one, inputs };
}

/** The EvalPrediction object a run or a Debug Console line gets. */
function evalPredFor(batch: BatchCall | undefined): ReturnType<typeof buildEvalPredView> {
  const { ep, inputs } = callEvalPred(freshEvalPred(data!), batch);
  return buildEvalPredView(ep, data!.plain, inputs);
}

const METRIC_NAMES = ['computeMetrics', 'compute_metrics'];
const PREPROCESS_NAMES = ['preprocessLogitsForMetrics', 'preprocess_logits_for_metrics'];

function findFunction(exp: Record<string, unknown>, names: string[]): ((...a: unknown[]) => unknown) | undefined {
  for (const n of names) if (typeof exp[n] === 'function') return exp[n] as (...a: unknown[]) => unknown;
  const def = exp.default as Record<string, unknown> | ((...a: unknown[]) => unknown) | undefined;
  if (def && typeof def === 'object') for (const n of names) if (typeof def[n] === 'function') return def[n] as (...a: unknown[]) => unknown;
  return undefined;
}

function metricFunction(exp: Record<string, unknown>, name: string | undefined): (...a: unknown[]) => unknown {
  const names = name ? [name] : METRIC_NAMES;
  let fn = findFunction(exp, names);
  if (!fn && !name) {
    if (typeof exp.default === 'function') fn = exp.default as (...a: unknown[]) => unknown;
    else if (typeof (exp as unknown) === 'function') fn = exp as unknown as (...a: unknown[]) => unknown;
  }
  if (!fn) {
    const found = Object.keys(exp).filter((k) => k !== '__esModule');
    const err = new Error(
      `${name ? `no exported function '${name}'` : 'no exported computeMetrics, compute_metrics or default function'}; ` +
        `exports found: ${found.length ? found.join(', ') : '(none)'}`,
    );
    (err as Error & { notFound: string[] }).notFound = found;
    throw err;
  }
  return fn;
}

// ---- result description (the shape postprocess.ts understands) ----

function shortRepr(v: unknown): string {
  try {
    return util.inspect(v, { depth: 2, maxArrayLength: 10, breakLength: Infinity, compact: true });
  } catch {
    return String(v);
  }
}

function describe(v: unknown, depth = 0): Described {
  if (typeof v === 'number') return { type: 'number', value: Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity' };
  if (typeof v === 'bigint') {
    return Number.isSafeInteger(Number(v)) ? { type: 'number', value: Number(v) } : { type: 'other', typeName: 'bigint', repr: `${v}n` };
  }
  if (typeof v === 'boolean') return { type: 'bool', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (v === null || v === undefined) return { type: 'none' };
  if (v instanceof Tensor || (typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v)) {
    const t = v as Tensor;
    // Like a one-element torch tensor, which denumpify_detensorize turns into a number.
    // Our Tensor is read through at(): a file-backed one (docs/cache-format.md#arrays-larger-than-memory) is never loaded whole here.
    if (t instanceof Tensor) {
      if (t.size === 1) return describe(t.data instanceof BigInt64Array ? t.data[0] : t.at(0), depth);
      return { type: 'other', typeName: `Tensor ${t.dtype}[${t.shape.join(', ')}]`, repr: shortRepr(Array.from({ length: Math.min(10, t.size) }, (_, i) => t.at(i))) };
    }
    const o = v as { dtype: string; shape: number[]; data: ArrayLike<number | bigint> };
    if (o.data.length === 1) return describe(o.data[0], depth);
    return { type: 'other', typeName: `Tensor ${o.dtype}[${o.shape.join(', ')}]`, repr: shortRepr(Array.from(o.data as ArrayLike<number>).slice(0, 10)) };
  }
  if (Array.isArray(v)) return { type: 'other', typeName: (v as { kind?: string }).kind === 'tuple' ? 'tuple' : 'array', repr: shortRepr(v) };
  if (ArrayBuffer.isView(v)) return { type: 'other', typeName: v.constructor.name, repr: shortRepr(v) };
  if (typeof v === 'function') return { type: 'other', typeName: 'function', repr: v.name || '(anonymous)' };
  if (depth > 8) return { type: 'other', typeName: 'object', repr: '(nested too deep)' };
  if (v instanceof Map) return { type: 'mapping', typeName: 'Map', entries: [...v].map(([k, x]) => [describe(k, depth + 1), describe(x, depth + 1)]) };
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return { type: 'mapping', typeName: 'object', entries: Object.entries(v as object).map(([k, x]) => [{ type: 'string', value: k }, describe(x, depth + 1)]) };
  }
  return { type: 'other', typeName: proto?.constructor?.name ?? 'object', repr: shortRepr(v) };
}

function errorOf(e: unknown): WorkerError {
  if (e instanceof Error) {
    return {
      name: e.name,
      message: e.message,
      stack: e.stack ?? `${e.name}: ${e.message}`,
      notFound: (e as Error & { notFound?: string[] }).notFound,
      cacheError: (e as Error & { cacheError?: boolean }).cacheError,
    };
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${shortRepr(e)}`, stack: '' };
}

function loadData(d: NonNullable<ToWorker['data']>): { key: string; wire: WireEvalPred; plain?: PlainFields } {
  if ('wire' in d) return d;
  // Read here rather than sent: the cache is the one bounded reader's job (src/core/cache/store.ts).
  let ep: EvalPredictionData;
  let plain: PlainFields | undefined;
  try {
    ep = readCache(d.cacheDir).evalPred;
    // run_qa doc stride: post-processed here on every load, as the Python worker's are (qaPostprocess.ts)
    const qa = postprocessedQa(d.cacheDir, ep);
    if (qa) plain = { predictions: qa.predictions, labelIds: qa.label_ids };
  } catch (e) {
    throw Object.assign(new Error(e instanceof Error ? e.message : String(e)), { cacheError: true });
  }
  return plain ? { key: d.key, wire: evalPredToWire(ep, new Set()), plain } : { key: d.key, wire: evalPredToWire(ep, new Set()) };
}

async function handle(msg: ToWorker): Promise<FromWorker> {
  const t0 = performance.now();
  captured = { parts: [], bytes: 0, dropped: 0 };
  try {
    if (msg.module) loaded = { key: msg.module.key, exports: loadModule(msg.module.code, msg.module.filename), file: msg.module.file };
    if (msg.data) {
      data = undefined; // the old arrays go before the new ones are read
      working = undefined;
      data = loadData(msg.data);
    }
    if (!loaded) throw new Error('internal: no metric module loaded');
    if (msg.type === 'evaluate') {
      if (!data) throw new Error('internal: no EvalPrediction loaded');
      const v = evaluateLine(msg.expression, msg.param, evalPredFor(msg.batch), loaded.exports, msg.batch);
      const shown = shownValue(v && typeof (v as Promise<unknown>).then === 'function' ? await v : v);
      return { id: msg.id, ok: true, result: { type: 'string', value: JSON.stringify(shown) }, stdout: printed(), durationMs: performance.now() - t0 };
    }
    if (msg.type === 'run') {
      if (!data) throw new Error('internal: no EvalPrediction loaded');
      const fn = metricFunction(loaded.exports, msg.functionName);
      const ep = evalPredFor(msg.batch);
      // batch_eval_metrics: compute_result is the second argument (Python passes it by keyword).
      const args = msg.batch ? [ep, msg.batch.computeResult] : [ep];
      const result = inspectorUrl ? await callUncaught(fn, args) : await fn(...args);
      return { id: msg.id, ok: true, result: describe(result), stdout: printed(), durationMs: performance.now() - t0 };
    }
    // preprocess_logits_for_metrics for one batch.
    const fn = msg.functionName ? metricFunction(loaded.exports, msg.functionName) : findFunction(loaded.exports, PREPROCESS_NAMES);
    if (msg.probe) return { id: msg.id, ok: true, result: { type: 'bool', value: !!fn }, stdout: '', durationMs: 0 };
    if (!fn) return { id: msg.id, ok: true, result: { type: 'none' }, stdout: '', durationMs: 0, node: null };
    const logits = nodeView(fromWire(msg.logits));
    const labels = msg.labels ? nodeView(fromWire(msg.labels)) : null;
    const out = await fn(logits, labels);
    const transfer = new Set<ArrayBuffer>();
    const node = toWire(toNode(out), transfer);
    return { id: msg.id, ok: true, result: { type: 'none' }, stdout: printed(), durationMs: performance.now() - t0, node, transfer: [...transfer] };
  } catch (e) {
    return { id: msg.id, ok: false, error: errorOf(e), stdout: printed() };
  } finally {
    captured = undefined;
  }
}

function toNode(v: unknown): TensorNode {
  if (v instanceof Tensor) return v;
  if (Array.isArray(v)) {
    const items = v.map(toNode);
    return (v as { kind?: string }).kind === 'list' ? { list: items } : { tuple: items };
  }
  throw new TypeError(`preprocessLogitsForMetrics must return a Tensor or an array of Tensors, got ${shortRepr(v)}`);
}

if (!process.send) throw new Error('metricWorker must run as a child process with an IPC channel');
// Messages are handled one at a time, in order (the host sends the next only after a reply).
let queue: Promise<void> = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  queue = queue.then(() =>
    handle(msg).then((reply) => {
      const { transfer: _transfer, ...rest } = reply as FromWorker & { transfer?: ArrayBuffer[] };
      const out = { ...rest, spawned };
      spawned = false;
      return new Promise<void>((resolve) => process.send!(out, undefined, undefined, () => resolve()));
    }),
  );
});
// The host going away (closed channel) ends us, whatever the metric left scheduled.
process.on('disconnect', () => process.exit(0));
// Started: the host's time limit for a call counts from here, not from the process start.
process.send(inspectorUrl === undefined ? { ready: true } : typeof inspectorUrl === 'string' ? { ready: true, inspector: inspectorUrl } : { ready: true, inspectorError: inspectorUrl.error });
