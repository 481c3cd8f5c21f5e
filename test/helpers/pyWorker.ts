// The Python metric worker (src/python/evalpred_worker.py) spoken to directly in JSON lines, for tests that
// compare its cache loading path with the TS reader (op "load": map checked arrays, run nothing).
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { pythonWith } from './python';

export interface LoadReply {
  ok: boolean;
  arrays?: Array<{ where: string; descr: string; shape: number[] }>;
  error?: { type: string; message: string };
}

export class WorkerClient {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (r: Record<string, unknown>) => void>();
  private nextId = 1;
  readonly ready: Promise<void>;

  constructor() {
    const script = path.join(__dirname, '..', '..', '..', 'src', 'python', 'evalpred_worker.py');
    this.proc = spawn(pythonWith(), ['-u', script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, EVALPRED_NO_TRANSFORMERS: '1' } });
    let ready!: () => void;
    this.ready = new Promise((r) => (ready = r));
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === 'ready') ready();
      else if (typeof msg.id === 'number') {
        this.waiting.get(msg.id)?.(msg);
        this.waiting.delete(msg.id);
      }
    });
    this.proc.stderr.resume();
  }

  /** Load `arrays` (checked nodes as pyRunner sends them) and report what the worker mapped, or its refusal. */
  async load(cache: string, arrays: Record<string, unknown>, timeoutMs = 20_000): Promise<LoadReply> {
    await this.ready;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.waiting.set(id, resolve);
      timer = setTimeout(() => reject(new Error(`the Python worker did not answer within ${timeoutMs} ms (a hang?)`)), timeoutMs);
    });
    this.proc.stdin.write(JSON.stringify({ id, op: 'load', cache, arrays }) + '\n');
    try {
      return (await reply) as unknown as LoadReply;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill('SIGKILL');
  }
}
