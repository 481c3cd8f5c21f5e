// Request/response over postMessage, typed per method, for the webviews and their hosts (the correlation of
// vscode-hexeditor's MessageHandler): the webview sends `{type: 'request', requestId, method, params}` and
// gets exactly one `{type: 'reply', requestId, result}` or `{type: 'reply', requestId, error}` back. Ids are
// made here, never by hand. No DOM, no Node, no `vscode`: both sides and the Node tests import it.

/** method -> what the request carries and what its reply holds. */
export type RequestMap = { [method: string]: { params: object; result: unknown } };

export type RequestMessage<R extends RequestMap, M extends keyof R & string = keyof R & string> = {
  [K in M]: { type: 'request'; requestId: number; method: K; params: R[K]['params'] };
}[M];

export type ReplyMessage = { type: 'reply'; requestId: number; result: unknown } | { type: 'reply'; requestId: number; error: string };

/** A request the other side answered with an error (its message is for the user). */
export class RequestFailed extends Error {
  constructor(
    message: string,
    readonly method: string,
  ) {
    super(message);
  }
}

/** The asking side: `await client.request('getRows', {...})`. Replies are fed in through `handle`. */
export class RequestClient<R extends RequestMap> {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly post: (m: RequestMessage<R>) => void) {}

  request<M extends keyof R & string>(method: M, params: R[M]['params']): Promise<R[M]['result']> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { method, resolve: resolve as (v: unknown) => void, reject });
      this.post({ type: 'request', requestId, method, params } as RequestMessage<R>);
    });
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Settles the matching request; true when `m` was a reply (to one of ours or a stale one), false otherwise. */
  handle(m: unknown): boolean {
    if (!isReply(m)) return false;
    const p = this.pending.get(m.requestId);
    if (!p) return true;
    this.pending.delete(m.requestId);
    if ('error' in m) p.reject(new RequestFailed(m.error, p.method));
    else p.resolve(m.result);
    return true;
  }
}

export function isReply(m: unknown): m is ReplyMessage {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  return o.type === 'reply' && Number.isInteger(o.requestId) && ('result' in o || typeof o.error === 'string');
}

export type Handlers<R extends RequestMap> = { [M in keyof R & string]: (params: R[M]['params']) => R[M]['result'] | Promise<R[M]['result']> };

/**
 * The answering side: runs the method's handler and posts one reply. A handler that returns a value (not a
 * promise) is answered before `answer` returns, so a host stays synchronous where it can be; a thrown error
 * or a rejected promise becomes an error reply whose text `describe` chooses.
 */
export function answer<R extends RequestMap>(m: RequestMessage<R>, handlers: Handlers<R>, post: (r: ReplyMessage) => void, describe: (e: unknown) => string): void {
  const fail = (e: unknown) => post({ type: 'reply', requestId: m.requestId, error: describe(e) });
  let out: unknown;
  try {
    out = (handlers[m.method] as (p: unknown) => unknown)(m.params);
  } catch (e) {
    fail(e);
    return;
  }
  if (out instanceof Promise) out.then((result) => post({ type: 'reply', requestId: m.requestId, result }), fail);
  else post({ type: 'reply', requestId: m.requestId, result: out });
}

/** Params validators per method: the webview is untrusted, so a request is checked before a handler sees it. */
export type ParamChecks<R extends RequestMap> = { [M in keyof R & string]: (p: Record<string, unknown>) => boolean };

/** Narrow an unknown message to a well-formed request of a known method. */
export function isRequest<R extends RequestMap>(m: unknown, checks: ParamChecks<R>): m is RequestMessage<R> {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  if (o.type !== 'request' || !Number.isInteger(o.requestId) || typeof o.method !== 'string') return false;
  if (!Object.prototype.hasOwnProperty.call(checks, o.method)) return false;
  const p = o.params;
  return !!p && typeof p === 'object' && !Array.isArray(p) && checks[o.method as keyof R & string](p as Record<string, unknown>);
}
