// Host side of the TS/JS metric runner: bundles the user's file with esbuild (their relative imports and
// node_modules; `evalpred/metrics` -> our library), runs it in a worker_thread with resource limits and a
// timeout, and maps errors back to the user's file:line:col through the inline source map.
// The worker stays warm: the bundle is rebuilt only when one of its input files changed, and the
// EvalPrediction is sent again only when its key (the cache) changed.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type * as esbuildTypes from 'esbuild';
import { EvalpredError } from '../errors';
import { packageRoot, distFile } from '../paths';
import { EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';
import { TensorData } from '../tensor/dtype';
import { WireEvalPred, WireNode, evalPredToWire, fromWire, toWire } from '../tensor/transfer';
import { Described, MetricFunctionError, hintFor } from './postprocess';

// ---- protocol shared with jsWorker.ts ----
export type ToWorker =
  | { type: 'run'; id: number; module?: ModuleMsg; data?: { key: string; wire: WireEvalPred }; functionName?: string }
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
}
export type FromWorker =
  | { id: number; ok: true; result: Described; stdout: string; durationMs: number; node?: WireNode | null; transfer?: ArrayBuffer[] }
  | { id: number; ok: false; error: WorkerError; stdout: string };

export interface JsRunnerOptions {
  /** Milliseconds before a run is abandoned and the worker terminated (default 60 000). */
  timeoutMs?: number;
  /** Worker heap limit (default 4096 MB). */
  maxOldGenerationSizeMb?: number;
  /** The bundled worker; default dist/metricWorker.js. */
  workerFile?: string;
}

export interface DataSource {
  /** Identifies the EvalPrediction (e.g. cache dir + manifest stamp): same key -> the worker's copy is reused. */
  key: string;
  load: () => EvalPredictionData;
  /** true: the loaded buffers may be transferred to the worker (the caller will not use them again). */
  detach?: boolean;
}

export interface JsRunResult {
  raw: Described;
  stdout: string;
  durationMs: number;
}

interface Bundle {
  key: string;
  code: string;
  filename: string;
  inputs: Array<{ file: string; mtimeMs: number; size: number }>;
}

export class JsMetricRunner {
  private worker: Worker | undefined;
  private workerModuleKey: string | undefined;
  private workerDataKey: string | undefined;
  private bundles = new Map<string, Bundle>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly maxOld: number;
  private readonly workerFile: string | undefined;

  constructor(opts: JsRunnerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxOld = opts.maxOldGenerationSizeMb ?? 4096;
    this.workerFile = opts.workerFile;
  }

  /** Run the metric function of `file` on the EvalPrediction from `source`. */
  run(file: string, source: DataSource, opts: { functionName?: string; timeoutMs?: number } = {}): Promise<JsRunResult> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      const msg: ToWorker = { type: 'run', id: this.nextId++, functionName: opts.functionName };
      const transfer: ArrayBuffer[] = [];
      this.ensureWorker();
      if (this.workerModuleKey !== bundle.key) msg.module = { key: bundle.key, code: bundle.code, filename: bundle.filename, file: abs };
      if (this.workerDataKey !== source.key) {
        const ep = source.load();
        const set = new Set<ArrayBuffer>();
        msg.data = { key: source.key, wire: evalPredToWire(source.detach ? ep : cloneEvalPred(ep), set) };
        transfer.push(...set);
      }
      const reply = await this.send(msg, transfer, abs, opts.timeoutMs ?? this.timeoutMs);
      if (msg.module) this.workerModuleKey = bundle.key;
      if (msg.data) this.workerDataKey = msg.data.key;
      if (!reply.ok) throw this.userError(reply, abs, bundle);
      return { raw: reply.result, stdout: reply.stdout, durationMs: reply.durationMs };
    });
  }

  /**
   * Run the file's preprocessLogitsForMetrics / preprocess_logits_for_metrics on one batch (spec §5).
   * Resolves null when the file defines none. The input tensors are copied, never detached.
   */
  preprocess(file: string, logits: TensorNode, labels: TensorNode | null, opts: { functionName?: string } = {}): Promise<TensorNode | null> {
    return this.serial(async () => {
      const abs = path.resolve(file);
      const bundle = await this.bundle(abs);
      this.ensureWorker();
      const set = new Set<ArrayBuffer>();
      const msg: ToWorker = {
        type: 'preprocess',
        id: this.nextId++,
        functionName: opts.functionName,
        logits: toWire(cloneNode(logits), set),
        labels: labels ? toWire(cloneNode(labels), set) : null,
      };
      if (this.workerModuleKey !== bundle.key) msg.module = { key: bundle.key, code: bundle.code, filename: bundle.filename, file: abs };
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
      this.ensureWorker();
      const empty: WireNode = { t: 'float32', s: [0], d: new Float32Array(0) };
      const msg: ToWorker = { type: 'preprocess', id: this.nextId++, logits: empty, labels: null, probe: true };
      if (this.workerModuleKey !== bundle.key) msg.module = { key: bundle.key, code: bundle.code, filename: bundle.filename, file: abs };
      const reply = await this.send(msg, [], abs, this.timeoutMs);
      if (msg.module) this.workerModuleKey = bundle.key;
      if (!reply.ok) throw this.userError(reply, abs, bundle);
      return reply.result.type === 'bool' && reply.result.value;
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.workerModuleKey = this.workerDataKey = undefined;
    if (w) await w.terminate();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerFile ?? distFile('metricWorker.js'), {
      resourceLimits: { maxOldGenerationSizeMb: this.maxOld },
      stdout: false,
      stderr: false,
    });
    w.unref(); // an idle warm worker must not keep the CLI alive
    this.worker = w;
    this.workerModuleKey = this.workerDataKey = undefined;
    return w;
  }

  private discardWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    this.workerModuleKey = this.workerDataKey = undefined;
    if (w) void w.terminate();
  }

  private send(msg: ToWorker, transfer: ArrayBuffer[], file: string, timeoutMs: number): Promise<FromWorker> {
    const w = this.worker!;
    const shown = path.basename(file);
    return new Promise<FromWorker>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        w.unref();
        f();
      };
      const onMessage = (reply: FromWorker) => {
        if (reply.id === msg.id) finish(() => resolve(reply));
      };
      const onError = (e: Error & { code?: string }) => {
        this.discardWorker();
        finish(() =>
          reject(
            e.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new EvalpredError(
                  `${shown}: the metric function ran out of memory (worker heap limit ${this.maxOld} MB) and was stopped. ` +
                    `Raise maxOldGenerationSizeMb, or avoid materialising large arrays (toArray() on the full predictions).`,
                  { file },
                )
              : new EvalpredError(`${shown}: the metric worker crashed: ${e.message}`, { file }),
          ),
        );
      };
      const onExit = (code: number) => {
        this.discardWorker();
        finish(() => reject(new EvalpredError(`${shown}: the metric worker exited unexpectedly (code ${code}).`, { file })));
      };
      const timer = setTimeout(() => {
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
      }, timeoutMs);
      w.ref();
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(msg, transfer);
    });
  }

  private async bundle(file: string): Promise<Bundle> {
    const prev = this.bundles.get(file);
    if (prev && prev.inputs.every((i) => sameStamp(i))) return prev;
    if (!fs.existsSync(file)) throw new EvalpredError(`metric file ${file} does not exist`, { file });
    const esbuild: typeof esbuildTypes = await import('esbuild');
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
  if (n instanceof Tensor) return new Tensor(n.dtype, n.shape, n.data.slice() as TensorData);
  return 'tuple' in n ? { tuple: n.tuple.map(cloneNode) } : { list: n.list.map(cloneNode) };
}

function cloneEvalPred(ep: EvalPredictionData): EvalPredictionData {
  const f = (n: TensorNode | null) => (n ? cloneNode(n) : null);
  return { predictions: f(ep.predictions), labelIds: f(ep.labelIds), inputs: f(ep.inputs), losses: f(ep.losses) };
}
