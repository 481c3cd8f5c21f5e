// The webview's side of the channel to the extension host: acquireVsCodeApi once, typed requests whose
// replies are matched by id (src/shared/messaging.ts), typed events both ways, and the webview state.
import { RequestClient, RequestMap, RequestMessage } from '../../src/shared/messaging';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class Host<Requests extends RequestMap, ToHostEvent extends { type: string }, FromHostEvent extends { type: string }> {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private readonly client = new RequestClient<Requests>((m: RequestMessage<Requests>) => this.api.postMessage(m));

  /** `onEvent` gets every message from the host that is not a reply to a request. */
  constructor(onEvent: (m: FromHostEvent) => void) {
    window.addEventListener('message', (event: MessageEvent) => {
      const m = event.data as unknown;
      if (!m || typeof m !== 'object') return;
      if (this.client.handle(m)) return;
      onEvent(m as FromHostEvent);
    });
  }

  request<M extends keyof Requests & string>(method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
    return this.client.request(method, params);
  }

  send(m: ToHostEvent): void {
    this.api.postMessage(m);
  }

  getState<T>(): T | undefined {
    return (this.api.getState() as T | null) ?? undefined;
  }

  setState(s: unknown): void {
    this.api.setState(s);
  }
}
