// The compare view: two caches of one dataset side by side (media/compareView.ts is the entry). The host
// computed the comparison (src/core/compare); the view shows the summary, asks for the changed samples in
// pages, and diffs a sample's two predictions word by word. The filter lives in the webview state.
import type { CompareOverview, CompareRequests, ToCompareView } from '../../src/shared/compareProtocol';
import type { ReplyMessage } from '../../src/shared/messaging';
import { el } from '../common/dom';
import { Host } from '../common/host';
import { summaryLine } from '../format';
import type { TaskKind } from '../../src/shared/protocol';
import { ChangedList, ChangedQuery } from './changedList';
import { SampleDiff } from './sampleDiff';
import { SummaryPanel } from './summary';

type HostEvent = Exclude<ToCompareView, ReplyMessage>;

interface SavedCompareState {
  changed?: ChangedQuery;
  [host: string]: unknown;
}

export class CompareViewApp {
  private readonly host: Host<CompareRequests, { type: 'ready' }, HostEvent>;
  private hostState: Record<string, unknown> = {};
  private changedQuery: ChangedQuery = { change: 'all', search: '' };
  private readonly title = el('h1', 'title', 'Compare runs');
  private readonly subtitle = el('span', 'summary');
  private readonly errors = el('section', 'lints');
  private readonly summary = new SummaryPanel();
  private readonly diff = new SampleDiff();
  private readonly list: ChangedList;

  constructor() {
    this.host = new Host<CompareRequests, { type: 'ready' }, HostEvent>((m) => this.onEvent(m));
    const saved = this.host.getState<SavedCompareState>();
    for (const [k, v] of Object.entries(saved ?? {})) if (k !== 'changed') this.hostState[k] = v;
    if (saved?.changed) this.changedQuery = saved.changed;
    this.list = new ChangedList(
      (q, start, count) => this.host.request('getChanged', { change: q.change, search: q.search || undefined, start, count }),
      (s) => this.diff.render(s),
      (message) => this.error(message),
      (q) => {
        this.changedQuery = q;
        this.save();
      },
    );
    this.list.setQuery(this.changedQuery);
    const header = el('header', 'top');
    header.append(this.title, this.subtitle);
    const app = el('div', 'app compare');
    app.append(header, this.errors, this.summary.root, this.list.root, this.diff.root);
    document.body.append(app);
  }

  start(): void {
    this.host.send({ type: 'ready' });
  }

  private onEvent(m: HostEvent): void {
    if (m.type === 'error') {
      this.error(m.message);
      return;
    }
    if (m.hostState) this.hostState = { ...m.hostState };
    this.render(m.overview);
    this.list.load(true);
  }

  private render(o: CompareOverview): void {
    this.subtitle.textContent = summaryLine(o.task as TaskKind, o.numSamples);
    document.body.dataset.task = o.task;
    this.summary.render(o);
  }

  private error(message: string): void {
    const box = el('div', 'lint error', message);
    box.setAttribute('role', 'alert');
    this.errors.prepend(box);
  }

  private save(): void {
    this.host.setState({ ...this.hostState, changed: this.changedQuery } satisfies SavedCompareState);
  }
}
