// Host side of the TS/JS metric runner: bundles the user's file with esbuild (their relative imports and
// node_modules; `evalpred/metrics` -> our library), runs it in a child process under a memory limit and a
// timeout (containment.ts), and maps errors back to the user's file:line:col through the inline source map.
// The worker process stays warm: the bundle is rebuilt only when one of its input files changed, and the
// EvalPrediction is loaded again only when its key (the cache) changed.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { ChildProcess, spawn } from 'node:child_process';
import type * as esbuildTypes from 'esbuild';
import { EvalpredError } from '../errors';
import { OUTPUT_CAP_BYTES, capOutput, endLeftovers, endWorkerBox, memoryLimitMb, overMemoryMessage, underAddressSpaceLimit } from './containment';
import { esbuildApi } from '../native';
import { packageRoot, distFile } from '../paths';
import { EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';
import { TensorData } from '../tensor/dtype';
import { WireEvalPred, WireNode, evalPredToWire, fromWire, toWire } from '../tensor/transfer';
import type { BatchCall } from './batchCalls';
import { Described, MetricFunctionError, hintFor } from './postprocess';

// ---- protocol shared with jsWorker.ts ----
export type ToWorker =
  | { type: 'run'; id: number; module?: ModuleMsg; data?: { key: string; wire: WireEvalPred } | { key: string; cacheDir: string }; functionName?: string; batch?: BatchCall }
  /** A Debug Console line in JavaScript at the boundary, with the EvalPrediction under `param`. */
  | { type: 'evaluate'; id: number; module?: ModuleMsg; data?: { key: string; cacheDir: string }; expression: string; param: string; functionName?: undefined; batch?: BatchCall }
  | { type: 'preprocess'; id: number; module?: ModuleMsg; logits: WireNode; labels: WireNode | null; functionName?: string; data?: undefined; probe?: boolean };
export interface ModuleMsg {
  key: string;
  code: string;
  /** Virtual path of the bundle, beside the user's file (so bare requires resolve from there). */
  filename: string;
  file: string;
}
export interface WorkerError {
  name: string;
  message: string;
  stack: string;
  notFound?: string[];
  /** The EvalPrediction could not be read (cache damage), not the user's code. */
  cacheError?: boolean;
}
export type FromWorker =
  | { id: number; ok: true; result: Described; stdout: string; durationMs: number; node?: WireNode | null; transfer?: ArrayBuffer[]; spawned?: boolean }
  | { id: number; ok: false; error: WorkerError; stdout: string; spawned?: boolean };

/**
 * A line debugger for TS/JS metric runs (the debug adapter's Node inspector bridge, src/debug/node/). With it the
 * worker opens the Node inspector on 127.0.0.1; no user code runs before `attach` resolves, and every new
 * bundle is announced before it loads, so breakpoints are bound in it before its first line runs.
 */
export interface JsDebugHooks {
  attach(inspectorUrl: string): Promise<void>;
  /** The bundle about to load in the worker (`code` carries its inline source map). */
  beforeLoad(bundle: { file: string; filename: string; code: string }): Promise<void>;
  unavailable(reason: string): void;
  /** True while the user holds the metric at a breakpoint: the time limit does not run out then. */
  paused(): boolean;
}

export interface JsRunnerOptions {
  /** Milliseconds before a run is abandoned and the worker process killed (default 60 000). */
  timeoutMs?: number;
  /** Memory limit of the worker process in MB (default: half of physical memory). */
  memoryLimitMb?: number;
  /** The bundled worker; default dist/metricWorker.js. */
  workerFile?: string;
  /** Bytes of printed output kept per run (default 1 MB). */
  outputCapBytes?: number;
  /** Debug the metric through the Node inspector (the debug adapter); such runs have no time limit while paused. */
  debug?: JsDebugHooks;
}

/** Identifies the EvalPrediction (e.g. cache dir + manifest stamp): same key -> the worker's copy is reused. */
export type DataSource =
  | { key: string; load: () => EvalPredictionData; detach?: boolean }
  /** The worker reads the cache folder itself (no tensor bytes cross the pipe). */
  | { key: string; cacheDir: string };

export interface JsRunResult {
  raw: Described;
  stdout: string;
  durationMs: number;
  /** The files the bundle was built from, packages left out: the metric file and the modules it imports. */
  sources: string[];
}

interface Bundle {
  key: string;
  code: string;
  filename: string;
  inputs: Array<{ file: string; mtimeMs: number; size: number }>;
}

/** Room for V8's own reservations (code range, isolate) beyond the heap, so the limit is the metric's. */
const RUNTIME_RESERVE_MB = 1024;

export class JsMetricRunner {
  private worker: ChildProcess | undefined;
  private stderrTail = '';
  private workerModuleKey: string | undefined;
  private workerDataKey: string | undefined;
  private bundles = new Map<string, Bundle>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  readonly memoryLimitMb: number;
  private readonly workerFile: string | undefined;
  private readonly outputCap: number;
  private readonly debug: JsDebugHooks | undefined;

  constructor(opts: JsRunnerOptions = {}) {
    this.debug = opts.debug;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.memoryLimitMb = memoryLimitMb(opts.memoryLimitMb);
    this.workerFile = opts.workerFile;
    this.outputCap = opts.outputCapBytes ?? OUTPUT_CAP_BYTES;
  }

  /** The worker's pid while it runs (tests look at what it leaves behind). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** Run the metric function of `file` on the EvalPrediction from `source`. */
  run(file: string, source: DataSource, opts: { functionName?: string; timeoutMs?: number; batch?: BatchCall } = {}): Promise<JsRunResult> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      // batch: one call of batch_eval_metrics, fn(that batch's evalPred, computeResult) (batchCalls.ts)
      const msg: ToWorker = { type: 'run', id: this.nextId++, functionName: opts.functionName, batch: opts.batch };
      const transfer: ArrayBuffer[] = [];
      await this.ensureWorker();
      msg.module = await this.moduleFor(bundle, abs);
      if (this.workerDataKey !== source.key) {
        if ('cacheDir' in source) msg.data = { key: source.key, cacheDir: path.resolve(source.cacheDir) };
        else {
          const ep = source.load();
          const set = new Set<ArrayBuffer>();
          msg.data = { key: source.key, wire: evalPredToWire(source.detach ? ep : cloneEvalPred(ep), set) };
          transfer.push(...set);
        }
      }
      const reply = await this.send(msg, transfer, abs, opts.timeoutMs ?? this.timeoutMs);
      if (msg.module) this.workerModuleKey = bundle.key;
      if (msg.data) this.workerDataKey = msg.data.key;
      if (!reply.ok) throw this.userError(reply, abs, bundle);
      return { raw: reply.result, stdout: reply.stdout, durationMs: reply.durationMs, sources: sourcesOf(bundle) };
    });
  }

  /**
   * Run the file's preprocessLogitsForMetrics / preprocess_logits_for_metrics on one batch (docs/trainer-semantics.md#preprocess_logits_for_metrics).
   * Resolves null when the file defines none. The input tensors are copied, never detached.
   */
  preprocess(file: string, logits: TensorNode, labels: TensorNode | null, opts: { functionName?: string } = {}): Promise<TensorNode | null> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      await this.ensureWorker();
      const set = new Set<ArrayBuffer>();
      const msg: ToWorker = {
        type: 'preprocess',
        id: this.nextId++,
        functionName: opts.functionName,
        logits: toWire(cloneNode(logits), set),
        labels: labels ? toWire(cloneNode(labels), set) : null,
      };
      msg.module = await this.moduleFor(bundle, abs);
      const reply = await this.send(msg, [...set], abs, this.timeoutMs);
      if (msg.module) this.workerModuleKey = bundle.key;
      if (!reply.ok) throw this.userError(reply, abs, bundle);
      return reply.node ? fromWire(reply.node) : null;
    });
  }

  /** Does the file export a preprocess function? (Bundles and loads it; does not call it.) */
  hasPreprocess(file: string): Promise<boolean> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      await this.ensureWorker();
      const empty: WireNode = { t: 'float32', s: [0], d: new Float32Array(0) };
      const msg: ToWorker = { type: 'preprocess', id: this.nextId++, logits: empty, labels: null, probe: true };
      msg.module = await this.moduleFor(bundle, abs);
      const reply = await this.send(msg, [], abs, this.timeoutMs);
      if (msg.module) this.workerModuleKey = bundle.key;
      if (!reply.ok) throw this.userError(reply, abs, bundle);
      return reply.result.type === 'bool' && reply.result.value;
    });
  }

  /**
   * A Debug Console line in JavaScript at the boundary: evaluated in the metric's worker with the module's
   * exports in scope and the EvalPrediction under `param` (the function's own parameter name) and evalPred.
   */
  evaluate(file: string, source: { key: string; cacheDir: string }, expression: string, opts: { param: string; timeoutMs?: number; batch?: BatchCall }): Promise<{ value: string; type: string; stdout: string }> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      await this.ensureWorker();
      const msg: ToWorker = { type: 'evaluate', id: this.nextId++, expression, param: opts.param, batch: opts.batch };
      msg.module = await this.moduleFor(bundle, abs);
      if (this.workerDataKey !== source.key) msg.data = { key: source.key, cacheDir: path.resolve(source.cacheDir) };
      const reply = await this.send(msg, [], abs, opts.timeoutMs ?? this.timeoutMs);
      if (msg.module) this.workerModuleKey = bundle.key;
      if (msg.data) this.workerDataKey = msg.data.key;
      if (!reply.ok) {
        if (reply.error.cacheError || reply.error.notFound) throw this.userError(reply, abs, bundle);
        // The user's own mistake in a console line: its message, not a stack through our worker.
        throw new EvalpredError(`${reply.error.name}: ${reply.error.message}`);
      }
      const shown = reply.result.type === 'string' ? (JSON.parse(reply.result.value) as { value: string; type: string }) : { value: '', type: '' };
      return { ...shown, stdout: reply.stdout };
    });
  }

  /**
   * Get ready for the first run of `file` without running any of its code: bundle it, start the worker and,
   * under a debugger, attach and bind the breakpoints (the debug adapter calls this at launch, so the first
   * stop inside the metric does not wait for all that). Errors are left for the run to report.
   */
  warm(file: string): Promise<void> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      await this.ensureWorker();
      await this.bindFor(bundle, abs);
    }).catch(() => undefined);
  }

  /** Under a debugger: announce a bundle the worker has not been told about yet, so its breakpoints are bound before it loads. */
  private async bindFor(bundle: Bundle, abs: string): Promise<void> {
    if (!this.debug || this.debugBoundKey === bundle.key) return;
    await this.debug.beforeLoad({ file: abs, filename: bundle.filename, code: bundle.code }).catch(() => undefined);
    this.debugBoundKey = bundle.key;
  }

  private debugBoundKey: string | undefined;

  /** The module message for a run, when the worker does not hold this bundle yet (a debugger binds its breakpoints first). */
  private async moduleFor(bundle: Bundle, abs: string): Promise<ModuleMsg | undefined> {
    if (this.workerModuleKey === bundle.key) return undefined;
    await this.bindFor(bundle, abs);
    return { key: bundle.key, code: bundle.code, filename: bundle.filename, file: abs };
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.workerModuleKey = this.workerDataKey = undefined;
    if (w && w.exitCode === null && w.signalCode === null) {
      // Held (ref) until it is gone: the caller awaits this, so the event loop must not end under it.
      w.ref();
      const gone = new Promise<void>((r) => w.once('exit', () => r()));
      endWorkerBox(w.pid);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private ready: Promise<void> | undefined;

  /** The warm worker, started if needed; resolves once it is listening. */
  private ensureWorker(): Promise<void> {
    if (this.worker && this.ready) return this.ready;
    const file = this.workerFile ?? distFile('metricWorker.js');
    // The heap limit gives V8's own clear failure; the address-space limit is the hard cap that also
    // stops ArrayBuffers (new Float64Array(1e9)) and anything the metric spawns.
    const argv = [process.execPath, `--max-old-space-size=${this.memoryLimitMb}`, file];
    const { command, args } = underAddressSpaceLimit(argv, this.memoryLimitMb + RUNTIME_RESERVE_MB);
    const w = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      // Its own process group and session: everything the metric starts can be found and ended.
      detached: true,
      // In VS Code's extension host process.execPath is Electron: run it as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', EVALPRED_OUTPUT_CAP: String(this.outputCap), ...(this.debug ? { EVALPRED_INSPECT: '1' } : {}) },
    });
    this.stderrTail = '';
    w.stdout!.on('data', () => undefined); // printed outside a run (or by its children): not ours to show
    w.stderr!.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-4000);
    });
    w.on('error', () => undefined); // reported through 'exit' / the pending call
    this.busy(w);
    this.worker = w;
    this.workerModuleKey = this.workerDataKey = this.debugBoundKey = undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        if (this.worker === w) this.discardWorker();
        reject(new EvalpredError(`could not start the TS/JS metric process (${process.execPath}): ${why}${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      };
      const onReady = (m: { ready?: boolean; inspector?: string; inspectorError?: string }) => {
        if (!m?.ready) return;
        w.off('message', onReady);
        const debug = this.debug;
        // With a debugger, no user code runs before it is attached (its breakpoints are bound by then).
        const attached = !debug
          ? Promise.resolve()
          : m.inspector
            ? debug.attach(m.inspector).catch((e: Error) => debug.unavailable(`could not attach to the Node inspector of the metric process: ${e.message}`))
            : Promise.resolve(debug.unavailable(`the metric process could not open the Node inspector: ${m.inspectorError ?? 'unknown reason'}`));
        void attached.then(() => {
          w.off('exit', onEarlyExit);
          this.idle(w);
          resolve();
        });
      };
      const onEarlyExit = (code: number | null, signal: string | null) => fail(`it exited at start (${signal ?? `code ${code}`})`);
      w.on('message', onReady);
      w.once('exit', onEarlyExit);
      w.once('error', (e) => fail(e.message));
    });
    this.ready.catch(() => undefined);
    return this.ready;
  }

  /** An idle warm worker must not keep the CLI alive. */
  private idle(w: ChildProcess): void {
    w.unref();
    w.channel?.unref();
    for (const s of [w.stdout, w.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private busy(w: ChildProcess): void {
    w.ref();
    w.channel?.ref();
  }

  private discardWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.workerModuleKey = this.workerDataKey = undefined;
    if (w) endWorkerBox(w.pid);
  }

  private send(msg: ToWorker, _transfer: ArrayBuffer[], file: string, timeoutMs: number): Promise<FromWorker> {
    const w = this.worker!;
    const shown = path.basename(file);
    return new Promise<FromWorker>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onExit);
        // The run is over: whatever it started goes with it (the warm worker itself stays).
        if (this.worker === w && w.pid) endLeftovers(w.pid, spawned);
        if (this.worker === w) this.idle(w);
        f();
      };
      let spawned = true; // unless the worker says it started nothing
      const onMessage = (reply: FromWorker) => {
        if (reply.id !== msg.id) return;
        spawned = reply.spawned !== false;
        if (!reply.ok && isOutOfMemory(reply.error)) {
          // V8 survived this one (a failed ArrayBuffer allocation), but the heap may be near the limit.
          this.discardWorker();
          finish(() => reject(new EvalpredError(overMemoryMessage(shown, this.memoryLimitMb), { file })));
          return;
        }
        finish(() => resolve({ ...reply, stdout: capOutput(reply.stdout, this.outputCap) }));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        const tail = this.stderrTail;
        this.discardWorker();
        const oom = /heap out of memory|Reached heap limit|allocation failed|Fatal process out of memory|could not allocate/i.test(tail);
        finish(() =>
          reject(
            oom || signal === 'SIGKILL' || signal === 'SIGABRT' || signal === 'SIGTRAP' || signal === 'SIGSEGV'
              ? new EvalpredError(
                  oom
                    ? overMemoryMessage(shown, this.memoryLimitMb)
                    : `${shown}: the metric process was ended by ${signal} while the metric ran (killed from outside, or it ran out of memory: ` +
                        `the limit is ${this.memoryLimitMb} MB). The next run starts a fresh process.`,
                  { file },
                )
              : new EvalpredError(
                  `${shown}: the metric process exited while the metric ran (code ${code}; did it call process.exit?). The next run starts a fresh process.`,
                  { file },
                ),
          ),
        );
      };
      const expire = () => {
        // Time spent stopped at a breakpoint is the user's: the limit starts again once they let it run.
        if (this.debug?.paused()) {
          timer = setTimeout(expire, timeoutMs);
          return;
        }
        this.discardWorker();
        finish(() =>
          reject(
            new EvalpredError(
              `${shown}: the metric function did not finish within ${timeoutMs / 1000} s and was stopped (an endless loop?). ` +
                `The next run starts a fresh worker; raise the limit with the timeout setting if the metric is just slow.`,
              { file },
            ),
          ),
        );
      };
      let timer = setTimeout(expire, timeoutMs);
      this.busy(w);
      w.on('message', onMessage);
      w.on('exit', onExit);
      try {
        w.send(msg);
      } catch (e) {
        this.discardWorker();
        finish(() => reject(new EvalpredError(`${shown}: could not reach the metric process: ${(e as Error).message}`, { file })));
      }
    });
  }

  private async bundle(file: string): Promise<Bundle> {
    const prev = this.bundles.get(file);
    if (prev && prev.inputs.every((i) => sameStamp(i))) return prev;
    if (!fs.existsSync(file)) throw new EvalpredError(`metric file ${file} does not exist`, { file });
    const esbuild = esbuildApi();
    const dir = path.dirname(file);
    const outfile = path.join(dir, `.${path.basename(file)}.evalpred-bundle.js`);
    const alias: Record<string, string> = {};
    const lib = metricsLibraryPath();
    if (lib) alias['evalpred/metrics'] = lib;
    let result: esbuildTypes.BuildResult<{ write: false; metafile: true }>;
    try {
      result = await esbuild.build({
        entryPoints: [file],
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        sourcemap: 'inline',
        sourcesContent: false,
        write: false,
        metafile: true,
        outfile,
        absWorkingDir: dir,
        alias,
        external: ['onnxruntime-node'],
        logLevel: 'silent',
      });
    } catch (e) {
      const errors = (e as { errors?: esbuildTypes.Message[] }).errors;
      if (!errors?.length) throw new EvalpredError(`${path.basename(file)}: could not bundle the metric file: ${(e as Error).message}`, { file });
      const first = errors[0];
      const loc = first.location;
      const where = loc ? `${loc.file}:${loc.line}:${loc.column + 1}` : path.basename(file);
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
      throw new EvalpredError(
        `${where}: ${first.text}${more}` + (loc?.lineText ? `\n    ${loc.lineText}` : ''),
        { file: loc ? path.resolve(dir, loc.file) : file, line: loc?.line },
      );
    }
    const code = result.outputFiles[0].text;
    const inputs = Object.keys(result.metafile.inputs)
      .map((f) => path.resolve(dir, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => {
        const st = fs.statSync(f);
        return { file: f, mtimeMs: st.mtimeMs, size: st.size };
      });
    const key = crypto.createHash('sha256').update(code).digest('hex').slice(0, 16);
    const b: Bundle = { key, code, filename: outfile, inputs };
    this.bundles.set(file, b);
    return b;
  }

  private userError(reply: Extract<FromWorker, { ok: false }>, file: string, bundle: Bundle): EvalpredError {
    const { error } = reply;
    const shown = path.basename(file);
    if (error.cacheError) return new EvalpredError(error.message);
    if (error.notFound) {
      return new EvalpredError(`${shown}: ${error.message}. Export a function computeMetrics(evalPred) (or name one with --function).`, { file });
    }
    const frame = userFrame(error.stack, bundle);
    const where = frame ? `${path.relative(path.dirname(file), frame.file) || shown}:${frame.line}:${frame.column}` : shown;
    const hint = hintFor(error.name, error.message, 'js');
    return new MetricFunctionError(
      `${where}: ${error.name}: ${error.message}${hint ? ` — ${hint}` : ''}`,
      { file: frame?.file ?? file, line: frame?.line },
      error.stack,
      reply.stdout,
    );
  }
}

/** A failed allocation the metric did not catch: the address-space limit said no. */
function isOutOfMemory(e: WorkerError): boolean {
  return e.name === 'RangeError' && /Array buffer allocation failed|could not allocate memory/.test(e.message);
}

function sameStamp(i: { file: string; mtimeMs: number; size: number }): boolean {
  try {
    const st = fs.statSync(i.file);
    return st.mtimeMs === i.mtimeMs && st.size === i.size;
  } catch {
    return false;
  }
}

/** The innermost stack frame in one of the user's own files (not node_modules, not node internals). */
function userFrame(stack: string, bundle: Bundle): { file: string; line: number; column: number } | undefined {
  const own = new Set(bundle.inputs.map((i) => i.file).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`)));
  const re = /(?:\(|at )((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?/g;
  for (const m of stack.matchAll(re)) {
    const f = m[1].startsWith('file://') ? new URL(m[1]).pathname : m[1];
    if (own.has(f)) return { file: f, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** evalpred's own code as a TS/JS metric bundle holds it (the library behind `evalpred/metrics`): a debugger hides it. */
export function hiddenJsPaths(): string[] {
  try {
    const root = packageRoot();
    return [path.join(root, 'src'), path.join(root, 'dist')];
  } catch {
    return [];
  }
}

/** Where `evalpred/metrics` points: the library source in a dev checkout, its bundle when packaged. */
export function metricsLibraryPath(): string | undefined {
  try {
    const root = packageRoot();
    for (const p of ['src/core/metrics/library/index.ts', 'dist/metricsLibrary.js']) {
      const abs = path.join(root, p);
      if (fs.existsSync(abs)) return abs;
    }
  } catch {
    /* no package root: no alias */
  }
  return undefined;
}

function cloneNode(n: TensorNode): TensorNode {
  // A file-backed tensor goes as its path (transfer.ts) and is opened afresh over there: nothing to copy.
  if (n instanceof Tensor) return n.backing ? n : new Tensor(n.dtype, n.shape, n.data.slice() as TensorData);
  return 'tuple' in n ? { tuple: n.tuple.map(cloneNode) } : { list: n.list.map(cloneNode) };
}

function cloneEvalPred(ep: EvalPredictionData): EvalPredictionData {
  const f = (n: TensorNode | null) => (n ? cloneNode(n) : null);
  const out: EvalPredictionData = { predictions: f(ep.predictions), labelIds: f(ep.labelIds), inputs: f(ep.inputs), losses: f(ep.losses) };
  const b = ep.batchInputs;
  if (b) out.batchInputs = { keys: [...b.keys], main: b.main, lists: Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, cloneNode(n)])) };
  return out;
}

/** A bundle's own source files: its inputs outside node_modules. */
function sourcesOf(bundle: Bundle): string[] {
  return bundle.inputs.map((i) => i.file).filter((f) => !f.split(path.sep).includes('node_modules'));
}
