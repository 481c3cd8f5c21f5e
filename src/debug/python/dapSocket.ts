// A DAP client over a TCP socket (Content-Length framed JSON, as every debug adapter speaks it). evalpred
// uses it to talk to debugpy's adapter inside the Python metric worker (./debugpyBridge.ts).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { DebugProtocol } from '@vscode/debugprotocol';

export class DapRequestError extends Error {
  constructor(
    readonly command: string,
    readonly response: DebugProtocol.Response,
  ) {
    super(response.message ?? `${command} failed`);
  }
}

interface DapSocketEvents {
  event: [DebugProtocol.Event];
  close: [];
}

export class DapSocket extends EventEmitter<DapSocketEvents> {
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private pending = new Map<number, { command: string; resolve: (r: DebugProtocol.Response) => void; reject: (e: Error) => void }>();
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    super();
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  /** Connect to 127.0.0.1:port (debugpy listens on the loopback interface only). */
  static connect(port: number, timeoutMs = 10_000): Promise<DapSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`debugpy did not accept a connection on 127.0.0.1:${port} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        // Small requests, answered at once: none waits behind an unacknowledged one (Nagle). The worker sets
        // the same on debugpy's side (src/python/evalpred/_debugpy.py).
        socket.setNoDelay(true);
        resolve(new DapSocket(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  request<R extends DebugProtocol.Response = DebugProtocol.Response>(command: string, args?: unknown): Promise<R> {
    if (this.closed) return Promise.reject(new Error(`debugpy connection closed (${command})`));
    const seq = this.seq++;
    const text = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.socket.write(`Content-Length: ${Buffer.byteLength(text, 'utf8')}\r\n\r\n${text}`);
    return new Promise<R>((resolve, reject) => {
      this.pending.set(seq, {
        command,
        resolve: (r) => (r.success ? resolve(r as R) : reject(new DapRequestError(command, r))),
        reject,
      });
    });
  }

  close(): void {
    this.socket.destroy();
    this.onClose();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /Content-Length:\s*(\d+)/i.exec(this.buffer.subarray(0, end).toString('ascii'));
      if (!m) {
        this.close(); // not DAP: nothing sensible can follow
        return;
      }
      const length = Number(m[1]);
      if (this.buffer.length < end + 4 + length) return;
      const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(end + 4 + length);
      let msg: DebugProtocol.ProtocolMessage;
      try {
        msg = JSON.parse(body);
      } catch {
        continue;
      }
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        const p = this.pending.get(r.request_seq);
        this.pending.delete(r.request_seq);
        p?.resolve(r);
      } else if (msg.type === 'event') {
        this.emit('event', msg as DebugProtocol.Event);
      }
      // Reverse requests (runInTerminal, startDebugging) are not used by an attached debugpy.
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) p.reject(new Error(`debugpy connection closed (${p.command})`));
    this.pending.clear();
    this.emit('close');
  }
}
