// A Chrome DevTools Protocol client over the WebSocket the Node inspector serves (127.0.0.1 only). evalpred
// uses it to debug a TS/JS metric in its own process (./inspectorBridge.ts). The WebSocket is the `ws`
// package: Node 20 has no WebSocket client of its own, and framing, masking, fragments and the close
// handshake are not ours to get right again.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import WebSocket from 'ws';

export class CdpError extends Error {
  constructor(
    readonly method: string,
    message: string,
  ) {
    super(message);
  }
}

interface CdpEvents {
  event: [method: string, params: Record<string, unknown>];
  close: [];
}

export class CdpSocket extends EventEmitter<CdpEvents> {
  private nextId = 1;
  private pending = new Map<number, { method: string; resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  /** Ids of our ACK nudges (see the constructor), whose answers are dropped. */
  private nudges = new Set<number>();
  closed = false;

  private constructor(
    private readonly ws: WebSocket,
    socket: Socket | undefined,
  ) {
    super();
    // Node's inspector does not set TCP_NODELAY on its socket. When it answers a request with an event first (an
    // evaluate's scriptParsed) and the answer second, the answer waits for our ACK of the event, which Linux delays
    // by ~40 ms. Sending anything back at once carries that ACK: a cheap request whose answer is dropped.
    // (The inspector closes the connection on WebSocket ping/pong frames, so those cannot serve.) bench/lineDebug.ts
    socket?.on('data', () => {
      if (this.pending.size === 0 || this.closed) return;
      const id = this.nextId++;
      this.nudges.add(id);
      this.ws.send(JSON.stringify({ id, method: 'Runtime.getIsolateId', params: {} }));
    });
    ws.on('message', (data) => this.receive(data.toString()));
    ws.on('close', () => this.onClose());
    ws.on('error', () => this.onClose());
  }

  /** Connect to an inspector URL (ws://127.0.0.1:PORT/UUID); refuses any other host. */
  static connect(url: string, timeoutMs = 10_000): Promise<CdpSocket> {
    const host = new URL(url).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') return Promise.reject(new Error(`the inspector is not on the loopback interface (${url})`));
    return new Promise((resolve, reject) => {
      // The inspector's messages can be large (a paused stack with its scopes): no size cap of ours.
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`the Node inspector did not accept a connection at ${url} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      // One small request, one small answer: our side never holds a request back (Nagle).
      let socket: Socket | undefined;
      ws.once('upgrade', (res) => {
        socket = res.socket;
        socket.setNoDelay(true);
      });
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new CdpSocket(ws, socket));
      });
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  send<R = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<R> {
    if (this.closed) return Promise.reject(new CdpError(method, `the inspector connection is closed (${method})`));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.terminate();
    this.onClose();
  }

  private receive(text: string): void {
    let msg: { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { message: string } };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.id !== undefined) {
      if (this.nudges.delete(msg.id)) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.error) p.reject(new CdpError(p.method, msg.error.message));
      else p.resolve(msg.result ?? {});
    } else if (msg.method) this.emit('event', msg.method, msg.params ?? {});
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) p.reject(new CdpError(p.method, `the inspector connection closed (${p.method})`));
    this.pending.clear();
    this.emit('close');
  }
}
