// Host side of the Python metric runner: one long-lived `evalpred_worker.py` per interpreter, spoken to
// in JSON lines. The worker loads the cache itself (np.load with a memory map), so no tensor bytes cross
// the pipe; per-batch preprocessing trades .npy files in a private temp folder instead of JSON lists.
// A call that exceeds the timeout kills the process; the next call starts a fresh one. The worker runs
// under the memory limit in its own process group, and what a call leaves running is ended after it
// (containment.ts).
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { EvalpredError } from '../errors';
import type { EvalPredictionProfile } from '../loop/settings';
import { packageRoot } from '../paths';
import { CheckedCache, CheckedNode, checkCache } from '../cache/reader';
import { postprocessedQa } from './qaPostprocess';
import { npyDescrOf, readNpyFile, writeNpyFile } from '../tensor/npy';
import { Tensor, TensorNode } from '../tensor/tensor';
import { OUTPUT_CAP_BYTES, capOutput, endLeftovers, endWorkerBox, memoryLimitMb, overMemoryMessage } from './containment';
import { BatchCall, batchFields } from './batchCalls';
import { Described, MetricFunctionError, hintFor } from './postprocess';
import { CHOOSE_INTERPRETER, foundElsewhere, installLines, missingModuleHint } from './pythonInstall';
import { defaultPython, otherInterpreterWith } from './pythonInterpreters';

export interface PyRunResult {
  raw: Described;
  stdout: string;
  durationMs: number;
  /** Which EvalPrediction the function received: transformers' own or our stand-in. */
  evalPrediction: 'transformers' | 'stand-in';
  /** The EvalPrediction profile it behaved as (docs/trainer-semantics.md#the-evalprediction-object). */
  profile: EvalPredictionProfile;
  /** Remarks for the user (profile overridden by the installed transformers, fields the profile cannot carry, ...). */
  warnings: string[];
  /** When the file defines preprocess_logits_for_metrics: what this interpreter would hand it. */
  preprocessTensors: 'torch' | 'numpy' | null;
  /** A batch_eval_metrics call: torch tensors as Trainer hands them, or NumPy arrays when torch is not importable. */
  batchTensors: 'torch' | 'numpy' | null;
  /** The files the run's code came from: the metric file and the modules it imported from its folder. */
  sources: string[];
}

export interface PyPreprocessProbe {
  defined: boolean;
  /** torch tensors as in Trainer, or NumPy arrays when torch is not importable in `python`. */
  tensors: 'torch' | 'numpy';
  /** The interpreter's sys.executable. */
  python: string;
}

export interface PyCallOptions {
  python?: string;
  timeoutMs?: number;
}

type WireNode = { npy: string } | { tuple: WireNode[] } | { list: WireNode[] };

interface PyError {
  type: string;
  message: string;
  traceback: string;
  file: string | null;
  line: number | null;
  /** A MemoryError: the memory limit said no. */
  memory?: boolean;
  /** A ModuleNotFoundError: the top-level module, the interpreter and its conda prefix (if any). */
  module?: string;
  python?: string;
  conda?: string | null;
}

interface RunReply {
  id: number;
  ok: true;
  result: Described;
  stdout: string;
  duration_ms: number;
  eval_prediction: 'transformers' | 'stand-in';
  profile: EvalPredictionProfile;
  warnings: string[];
  preprocess_tensors: 'torch' | 'numpy' | null;
  batch_tensors?: 'torch' | 'numpy' | null;
  sources?: string[];
}
interface PreprocessReply {
  id: number;
  ok: true;
  defined: boolean;
  tensors: 'torch' | 'numpy';
  python: string;
  result: WireNode | null;
  stdout: string;
}
type Reply = RunReply | PreprocessReply | { id: number; ok: false; error: PyError; stdout: string };

/** The worker script: beside the sources in a checkout, copied to dist/python when packaged. */
export function workerScriptPath(): string {
  const root = packageRoot();
  for (const p of ['src/python/evalpred_worker.py', 'dist/python/evalpred_worker.py']) {
    const abs = path.join(root, p);
    if (fs.existsSync(abs)) return abs;
  }
  throw new Error(`evalpred_worker.py not found under ${root} (src/python or dist/python)`);
}

/**
 * A line debugger for Python metric runs (src/debug/python/debugpyBridge.ts): the worker starts debugpy,
 * `attach` binds the breakpoints before any user code runs; `unavailable` says once why it cannot.
 */
export interface PythonDebugHooks {
  attach(port: number): Promise<void>;
  unavailable(reason: string): void;
  /** True while the user holds the metric at a breakpoint: the time limit does not run out then. */
  paused(): boolean;
  /**
   * What a paused frame's Variables need to summarize arrays (src/python/evalpred/_summary.py): the model
   * folder whose tokenizer decodes token ids, and whether predictions/labels are token ids.
   */
  arrays?(): { model?: string; tokenIds: boolean };
  /** The .py files holding breakpoints; the worker reports which of them a run has imported (`reached`). */
  breakpointFiles?(): string[];
  /** Of breakpointFiles, those imported by now; `done`: the metric function has returned (or raised). */
  reached?(files: string[], done: boolean): void;
  /** A start-up step happened (at: ms since the epoch, default now): src/debug/startupTimeline.ts. */
  mark?(name: string, at?: number): void;
}

/** Where evalpred's own Python lives (the worker and the evalpred package): a debugger hides these frames. */
export function hiddenPythonPaths(): string[] {
  const worker = workerScriptPath();
  return [worker, path.join(path.dirname(worker), 'evalpred')];
}

class PyProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  private pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private stderrTail = '';
  dead = false;

  constructor(readonly python: string, script: string, env: NodeJS.ProcessEnv, readonly limitMb: number, debug?: PythonDebugHooks) {
    debug?.mark?.('Python worker spawned');
    this.proc = spawn(python, ['-u', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group and session: everything the metric starts can be found and ended.
      detached: true,
      env: { ...process.env, ...env, PYTHONUNBUFFERED: '1', EVALPRED_MEMORY_LIMIT_MB: String(limitMb), EVALPRED_OUTPUT_CAP: String(OUTPUT_CAP_BYTES), ...(debug ? { EVALPRED_DEBUGPY: '1' } : {}) },
    });
    // An idle warm worker must not keep the CLI alive; a pending run holds its own timer.
    this.proc.unref();
    for (const s of [this.proc.stdin, this.proc.stdout, this.proc.stderr]) (s as unknown as { unref?: () => void }).unref?.();
    this.proc.stderr.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-4000);
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    // The worker's own report of why it cannot run (no NumPy), which its exit then must not replace.
    let fatal: Promise<EvalpredError> | undefined;
    const rl = readline.createInterface({ input: this.proc.stdout });
    // With a debugger, the worker reports debugpy's port before `ready`; no user code runs until it is attached.
    let attached: Promise<void> = Promise.resolve();
    rl.on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // not ours (cannot happen: fd 1 is redirected in the worker)
      }
      if (msg.event === 'debugpy' && debug) {
        // The worker's own clock readings (interpreter up, NumPy, debugpy imported and listening).
        if (msg.marks && typeof msg.marks === 'object') for (const [name, at] of Object.entries(msg.marks)) if (typeof at === 'number') debug.mark?.(name, at);
        debug.mark?.('debugpy port received');
        if (typeof msg.port === 'number') {
          attached = debug.attach(msg.port).catch((e: Error) => debug.unavailable(`could not attach to debugpy in ${python}: ${e.message}`));
        } else debug.unavailable(String(msg.error ?? 'debugpy did not start'));
      } else if (msg.event === 'reached' && debug) {
        debug.reached?.(Array.isArray(msg.files) ? msg.files.filter((f): f is string => typeof f === 'string') : [], msg.done === true);
      } else if (msg.event === 'ready') {
        debug?.mark?.('Python worker ready');
        void attached.then(readyResolve);
      }
      else if (msg.event === 'fatal' && msg.reason === 'numpy') {
        const exe = typeof msg.python === 'string' && msg.python ? msg.python : python;
        const conda = typeof msg.conda === 'string' ? msg.conda : null;
        fatal = otherInterpreterWith(['numpy'], exe).then(
          (other) =>
            new EvalpredError(
              `The Python interpreter ${exe} has no NumPy (${msg.message}). Install it into that interpreter: ` +
                `${installLines('numpy', exe, conda)}; ${CHOOSE_INTERPRETER}.${foundElsewhere('NumPy', other)}`,
            ),
        );
        void fatal.then(readyReject);
      } else if (typeof msg.id === 'number') {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg as unknown as Reply);
      }
    });
    this.proc.on('error', (e: NodeJS.ErrnoException) => {
      this.dead = true;
      const err =
        e.code === 'ENOENT'
          ? new EvalpredError(
              `Python interpreter '${python}' was not found. Point evalpred at a Python 3 with NumPy (\`pip install numpy\` or ` +
                `\`conda install numpy\`; Debian/Ubuntu: python3-numpy): choose it with --python (or EVALPRED_PYTHON), ` +
                `the interpreter selected in the Python extension, or the setting evalpred.pythonPath.`,
            )
          : new EvalpredError(`could not start Python '${python}': ${e.message}`);
      readyReject(err);
      this.failAll(err);
    });
    this.proc.on('exit', (code, signal) => {
      this.dead = true;
      const tail = this.stderrTail.trim();
      const err = new EvalpredError(
        `the Python metric worker (${python}) exited (${signal ?? `code ${code}`})` +
          (tail ? `: ${tail.split('\n').slice(-3).join(' | ')}` : '') +
          (this.pending.size && !this.killed
            ? `. If the metric ran out of memory (the limit is ${limitMb} MB), raise --memory-limit-mb / metricMemoryLimitMb; the next run starts a fresh worker.`
            : ''),
      );
      if (fatal) return void fatal.then((e) => this.failAll(e));
      readyReject(err);
      this.failAll(err);
    });
  }

  request(req: Record<string, unknown> & { id: number }): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.proc.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  killed = false;

  kill(): void {
    this.dead = true;
    this.killed = true;
    endWorkerBox(this.proc.pid);
  }

  /** End what the last call left running (the worker itself stays warm). */
  endLeftovers(): void {
    // On Linux the worker is a child subreaper: whatever the call left is still below it.
    if (!this.dead && this.proc.pid) endLeftovers(this.proc.pid, process.platform !== 'linux');
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

export class PyMetricRunner {
  private procs = new Map<string, PyProcess>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private batchDir: string | undefined;

  readonly memoryLimitMb: number;

  constructor(private readonly opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; memoryLimitMb?: number; debug?: PythonDebugHooks } = {}) {
    this.memoryLimitMb = memoryLimitMb(opts.memoryLimitMb);
  }

  /** The warm worker's pid for `python`, if one runs (tests look at what it leaves behind). */
  pidFor(python: string): number | undefined {
    const p = this.procs.get(python);
    return p && !p.dead ? p.proc.pid : undefined;
  }

  async run(
    file: string,
    cacheDir: string,
    opts: PyCallOptions & { functionName?: string; profile?: EvalPredictionProfile; batch?: BatchCall; checked?: CheckedCache } = {},
  ): Promise<PyRunResult> {
    const abs = checkedFile(file);
    // Node validates the cache once and hands the worker resolved, checked paths (src/core/cache/reader.ts);
    // `checked`: already validated by the caller for all the batch_eval_metrics calls of one replay.
    const arrays = workerArrays(cacheDir, opts.batch, opts.checked);
    const reply = (await this.call(
      abs,
      { op: 'run', file: abs, function: opts.functionName ?? null, cache: cacheDir, arrays, profile: opts.profile ?? null, debug_view: this.debugView(), batch: wireBatch(opts.batch) },
      opts,
      'compute_metrics',
    )) as RunReply;
    return {
      raw: reply.result,
      stdout: reply.stdout,
      durationMs: reply.duration_ms,
      evalPrediction: reply.eval_prediction,
      profile: reply.profile ?? 'current',
      warnings: reply.warnings ?? [],
      preprocessTensors: reply.preprocess_tensors ?? null,
      batchTensors: reply.batch_tensors ?? null,
      sources: Array.isArray(reply.sources) ? reply.sources.filter((f): f is string => typeof f === 'string') : [abs],
    };
  }

  /**
   * A Debug Console line in Python at the boundary: evaluated in the metric module's namespace with the
   * EvalPrediction bound to `param` (the function's own parameter name), NumPy as np. Throws the user's error.
   */
  async evaluate(
    file: string,
    cacheDir: string,
    expression: string,
    opts: PyCallOptions & { param?: string; profile?: EvalPredictionProfile; batch?: BatchCall } = {},
  ): Promise<{ value: string; type: string; stdout: string }> {
    const abs = checkedFile(file);
    const arrays = workerArrays(cacheDir, opts.batch);
    const reply = (await this.call(
      abs,
      { op: 'evaluate', file: abs, cache: cacheDir, arrays, expression, param: opts.param ?? null, profile: opts.profile ?? null, batch: wireBatch(opts.batch) },
      opts,
      'the Debug Console expression',
    )) as unknown as { value: string; type: string; stdout: string };
    return { value: reply.value, type: reply.type, stdout: reply.stdout };
  }

  /** What a debugged run tells the worker (src/python/evalpred/_summary.py, breakpoint files); null without a debugger. */
  private debugView(): Record<string, unknown> | null {
    const d = this.opts.debug;
    return d ? { ...d.arrays?.(), files: d.breakpointFiles?.() ?? [] } : null;
  }

  /** Does the file define preprocess_logits_for_metrics, and would it get torch tensors? (Loads the module.) */
  async probePreprocess(file: string, opts: PyCallOptions = {}): Promise<PyPreprocessProbe> {
    const abs = checkedFile(file);
    const r = (await this.call(abs, { op: 'preprocess', file: abs, probe: true }, opts, 'preprocess_logits_for_metrics')) as PreprocessReply;
    return { defined: r.defined, tensors: r.tensors, python: r.python };
  }

  /**
   * One batch through the file's preprocess_logits_for_metrics (docs/trainer-semantics.md#preprocess_logits_for_metrics): tensors go over as .npy files in a
   * private temp folder (removed as soon as the reply is read), tuples stay tuples.
   */
  async preprocess(file: string, logits: TensorNode, labels: TensorNode | null, opts: PyCallOptions = {}): Promise<{ result: TensorNode; stdout: string }> {
    const abs = checkedFile(file);
    const dir = (this.batchDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-batch-')));
    const tag = `b${this.nextId}`;
    const written: string[] = [];
    let k = 0;
    const put = (node: TensorNode): WireNode => {
      if (node instanceof Tensor) {
        const name = `${tag}-in-${k++}.npy`;
        writeNpyFile(path.join(dir, name), node);
        written.push(path.join(dir, name));
        return { npy: name };
      }
      return 'tuple' in node ? { tuple: node.tuple.map(put) } : { list: node.list.map(put) };
    };
    try {
      const req = { op: 'preprocess', file: abs, dir, logits: put(logits), labels: labels ? put(labels) : null };
      const reply = (await this.call(abs, req, opts, 'preprocess_logits_for_metrics')) as PreprocessReply;
      const get = (node: WireNode): TensorNode => {
        if ('npy' in node) {
          const p = path.join(dir, node.npy);
          written.push(p);
          return readNpyFile(p);
        }
        return 'tuple' in node ? { tuple: node.tuple.map(get) } : { list: node.list.map(get) };
      };
      if (!reply.result) throw new EvalpredError(`${path.basename(abs)}: preprocess_logits_for_metrics gave no result`, { file: abs });
      return { result: get(reply.result), stdout: reply.stdout };
    } finally {
      for (const p of written) fs.rmSync(p, { force: true });
    }
  }

  private procFor(python: string): PyProcess {
    let proc = this.procs.get(python);
    if (!proc || proc.dead) {
      proc = new PyProcess(python, workerScriptPath(), this.opts.env ?? {}, this.memoryLimitMb, this.opts.debug);
      this.procs.set(python, proc);
    }
    return proc;
  }

  /**
   * Start the worker now, so that the first run finds it warm: a debug session does this at its boundary stop
   * (interpreter start, NumPy and debugpy take most of a second, then the breakpoints bind). Its errors are
   * the first run's to report.
   */
  warm(python?: string): void {
    void (async () => this.procFor(python ?? (await defaultPython())))().catch(() => undefined);
  }

  /** Queue one request (the worker answers one at a time) under a timeout that kills a stuck worker. */
  private call(abs: string, req: Record<string, unknown>, opts: PyCallOptions, what: string): Promise<Reply & { ok: true }> {
    const p = this.queue.then(() => this.callNow(abs, req, opts, what));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async callNow(abs: string, req: Record<string, unknown>, opts: PyCallOptions, what: string): Promise<Reply & { ok: true }> {
    const python = opts.python ?? (await defaultPython());
    const proc = this.procFor(python);
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const expire = () => {
        // Time spent stopped at a breakpoint is the user's: the limit starts again once they let it run.
        if (this.opts.debug?.paused()) {
          timer = setTimeout(expire, timeoutMs);
          return;
        }
        proc!.kill();
        this.procs.delete(python);
        reject(
          new EvalpredError(
            `${path.basename(abs)}: ${what} did not finish within ${timeoutMs / 1000} s; the Python worker was killed ` +
              `(an endless loop?). The next run starts a fresh one; raise the timeout if the function is just slow.`,
            { file: abs },
          ),
        );
      };
      timer = setTimeout(expire, timeoutMs);
    });
    try {
      await Promise.race([proc.ready, timeout]);
      if (req.op === 'run') this.opts.debug?.mark?.('metric run sent to the worker');
      const reply = await Promise.race([proc.request({ id, ...req }), timeout]);
      if (!reply.ok && reply.error.memory) throw new EvalpredError(overMemoryMessage(path.basename(abs), this.memoryLimitMb), { file: abs });
      if (!reply.ok) throw await userError(reply.error, capOutput(reply.stdout), abs);
      return { ...reply, stdout: capOutput(reply.stdout) };
    } finally {
      clearTimeout(timer);
      proc.endLeftovers();
    }
  }

  async close(): Promise<void> {
    for (const p of this.procs.values()) {
      p.proc.stdin.end();
      if (!p.dead) p.kill();
    }
    this.procs.clear();
    if (this.batchDir) fs.rmSync(this.batchDir, { recursive: true, force: true });
    this.batchDir = undefined;
  }
}

/**
 * The worker's "batch" (evalpred_worker.py): the call, and the key Trainer's batch mapping holds the input ids under
 * when the cache keeps no other key (caches made before batch_inputs, captures of the input ids alone).
 */
function wireBatch(batch: BatchCall | undefined): Record<string, unknown> | null {
  return batch ? { index: batch.index, count: batch.count, compute_result: batch.computeResult, main_input: 'input_ids' } : null;
}

function checkedFile(file: string): string {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new EvalpredError(`metric file ${abs} does not exist`, { file: abs });
  return abs;
}

/**
 * What the worker builds the EvalPrediction from: the checked arrays, or for a run_qa doc-stride cache the
 * post-processed predictions and references as plain values ({"value": ...}, qaPostprocess.ts).
 */
function workerArrays(cacheDir: string, batch?: BatchCall, checked?: CheckedCache): Record<string, unknown> {
  const c = checked ?? checkCache(cacheDir);
  const arrays = checkedArraysForWorker(c);
  if (batch) {
    // One call of batch_eval_metrics: that batch's entry of every field (batchCalls.ts), and of every key of the
    // batch mapping the cache keeps (docs/cache-format.md#batch-inputs): {"keys", "main", "arrays": {key: node}}.
    const one: Record<string, unknown> = batchFields(arrays as Record<string, object | null>, batch.index);
    const b = c.batchInputs;
    if (b) {
      const lists = Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, wireNode(n) as object]));
      one.batch_inputs = { keys: b.keys, main: b.main, arrays: batchFields(lists, batch.index) };
    }
    return one;
  }
  const qa = postprocessedQa(cacheDir);
  return qa ? { ...arrays, predictions: { value: qa.predictions }, label_ids: { value: qa.label_ids } } : arrays;
}

/** A checked cache as the worker's "arrays" (see the protocol at the top of evalpred_worker.py). */
export function checkedArraysForWorker(c: CheckedCache): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.nodes).map(([k, n]) => [k, n ? wireNode(n) : null]));
}

function wireNode(n: CheckedNode): unknown {
  if ('array' in n) {
    const { file, where, header } = n.array;
    return { array: { file, where, descr: npyDescrOf(header), shape: header.shape } };
  }
  return 'tuple' in n ? { tuple: n.tuple.map(wireNode) } : { list: n.list.map(wireNode) };
}

async function userError(e: PyError, stdout: string, file: string): Promise<EvalpredError> {
  // Damage found by the worker's own check of a cache file: the cache's fault, not the metric file's.
  if (e.type === 'CacheDamage') return new EvalpredError(e.message);
  if (e.type === 'MissingFunction') return new EvalpredError(`${e.message}.`, { file });
  if (e.type === 'BadPreprocessResult') return new EvalpredError(`${path.basename(file)}: ${e.message}.`, { file });
  const shownFile = e.file ? path.relative(path.dirname(file), e.file) || path.basename(file) : path.basename(file);
  const where = e.line ? `${shownFile}:${e.line}` : shownFile;
  const missing = e.type === 'ModuleNotFoundError' && e.module && e.python ? { module: e.module, python: e.python } : undefined;
  const hint = missing
    ? missingModuleHint(missing.module, missing.python, e.conda, await otherInterpreterWith(['numpy', missing.module], missing.python))
    : hintFor(e.type, e.message, 'py');
  return new MetricFunctionError(
    `${where}: ${e.message}${hint ? ` — ${hint}` : ''}`,
    { file: e.file ?? file, line: e.line ?? undefined },
    e.traceback,
    stdout,
  );
}
