// Host side of the Python metric runner: one long-lived `evalpred_worker.py` per interpreter, spoken to
// in JSON lines. The worker loads the cache itself (np.load with a memory map), so no tensor bytes cross
// the pipe. A run that exceeds the timeout kills the process; the next run starts a fresh one.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { EvalpredError } from '../errors';
import { packageRoot } from '../paths';
import { Described, MetricFunctionError, hintFor } from './postprocess';

export interface PyRunResult {
  raw: Described;
  stdout: string;
  durationMs: number;
  /** Which EvalPrediction the function received: transformers' own or our stand-in. */
  evalPrediction: 'transformers' | 'stand-in';
}

interface PyError {
  type: string;
  message: string;
  traceback: string;
  file: string | null;
  line: number | null;
}

type Reply =
  | { id: number; ok: true; result: Described; stdout: string; duration_ms: number; eval_prediction: 'transformers' | 'stand-in' }
  | { id: number; ok: false; error: PyError; stdout: string };

/** The worker script: beside the sources in a checkout, copied to dist/python when packaged. */
export function workerScriptPath(): string {
  const root = packageRoot();
  for (const p of ['src/python/evalpred_worker.py', 'dist/python/evalpred_worker.py']) {
    const abs = path.join(root, p);
    if (fs.existsSync(abs)) return abs;
  }
  throw new Error(`evalpred_worker.py not found under ${root} (src/python or dist/python)`);
}

class PyProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  private pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private stderrTail = '';
  dead = false;

  constructor(readonly python: string, script: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn(python, ['-u', script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env, PYTHONUNBUFFERED: '1' } });
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
    const rl = readline.createInterface({ input: this.proc.stdout });
    rl.on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // not ours (cannot happen: fd 1 is redirected in the worker)
      }
      if (msg.event === 'ready') readyResolve();
      else if (msg.event === 'fatal' && msg.reason === 'numpy') {
        readyReject(
          new EvalpredError(
            `The Python interpreter ${python} has no NumPy (${msg.message}). Install it (\`pip install numpy\` in that ` +
              `environment, or \`apt install python3-numpy\`), or set the interpreter to one that has it (option python / setting evalpred.python).`,
          ),
        );
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
              `Python interpreter '${python}' was not found. Install Python 3 with NumPy (\`apt install python3 python3-numpy\`) ` +
                `or set the interpreter (option python / setting evalpred.python) to a python that has NumPy.`,
            )
          : new EvalpredError(`could not start Python '${python}': ${e.message}`);
      readyReject(err);
      this.failAll(err);
    });
    this.proc.on('exit', (code, signal) => {
      this.dead = true;
      const err = new EvalpredError(
        `the Python metric worker (${python}) exited (${signal ?? `code ${code}`})` + (this.stderrTail.trim() ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''),
      );
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

  kill(): void {
    this.dead = true;
    this.proc.kill('SIGKILL');
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

  constructor(private readonly opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {}

  run(file: string, cacheDir: string, opts: { functionName?: string; python?: string; timeoutMs?: number } = {}): Promise<PyRunResult> {
    const p = this.queue.then(() => this.runNow(file, cacheDir, opts));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async runNow(file: string, cacheDir: string, opts: { functionName?: string; python?: string; timeoutMs?: number }): Promise<PyRunResult> {
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) throw new EvalpredError(`metric file ${abs} does not exist`, { file: abs });
    const python = opts.python ?? 'python3';
    let proc = this.procs.get(python);
    if (!proc || proc.dead) {
      proc = new PyProcess(python, workerScriptPath(), this.opts.env ?? {});
      this.procs.set(python, proc);
    }
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        proc!.kill();
        this.procs.delete(python);
        reject(
          new EvalpredError(
            `${path.basename(abs)}: compute_metrics did not finish within ${timeoutMs / 1000} s; the Python worker was killed ` +
              `(an endless loop?). The next run starts a fresh one; raise the timeout if the metric is just slow.`,
            { file: abs },
          ),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([proc.ready, timeout]);
      const reply = await Promise.race([
        proc.request({ id, op: 'run', file: abs, function: opts.functionName ?? null, cache: path.resolve(cacheDir) }),
        timeout,
      ]);
      if (!reply.ok) throw userError(reply.error, reply.stdout, abs);
      return { raw: reply.result, stdout: reply.stdout, durationMs: reply.duration_ms, evalPrediction: reply.eval_prediction };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    for (const p of this.procs.values()) {
      p.proc.stdin.end();
      p.kill();
    }
    this.procs.clear();
  }
}

function userError(e: PyError, stdout: string, file: string): EvalpredError {
  if (e.type === 'MissingFunction') return new EvalpredError(`${e.message}.`, { file });
  const shownFile = e.file ? path.relative(path.dirname(file), e.file) || path.basename(file) : path.basename(file);
  const where = e.line ? `${shownFile}:${e.line}` : shownFile;
  const hint = hintFor(e.type, e.message, 'py');
  return new MetricFunctionError(
    `${where}: ${e.message}${hint ? ` — ${hint}` : ''}`,
    { file: e.file ?? file, line: e.line ?? undefined },
    e.traceback,
    stdout,
  );
}
