// One changed sample: its text and label, and the two runs' predictions with the words each has that the other
// lacks highlighted (a word-level diff), with correctness and loss per run.
import type { ChangedSample } from '../../src/shared/compareProtocol';
import { formatCompact } from '../../src/shared/format';
import { appendDiff } from '../common/diffText';
import { button, el } from '../common/dom';

export class SampleDiff {
  readonly root = el('section', 'sample-diff panel');

  constructor() {
    this.root.hidden = true;
    this.root.setAttribute('aria-label', 'Sample diff');
  }

  render(s: ChangedSample): void {
    const root = this.root;
    root.textContent = '';
    root.hidden = false;
    const head = el('div', 'detail-head');
    head.append(el('h2', undefined, `Sample ${s.index} · ${s.change}`), button('close', 'Close', () => (root.hidden = true)));
    root.append(head);
    const dl = el('dl', 'detail-fields');
    const field = (k: string, v: string | HTMLElement, cls?: string) => {
      const dd = el('dd', cls);
      dd.append(v);
      dl.append(el('dt', undefined, k), dd);
    };
    field('text', s.text);
    if (s.label !== undefined) field('label', s.label);
    const side = (name: 'A' | 'B', mine: string, other: string, correct: boolean, loss: number | undefined) => {
      const p = el('span');
      appendDiff(p, mine, other, `diff diff-${name.toLowerCase()}`);
      field(`prediction ${name}`, p, `pred-${name.toLowerCase()}`);
      field(`${name}`, `${correct ? 'right' : 'wrong'}${loss !== undefined ? ` · loss ${formatCompact(loss)}` : ''}`);
    };
    side('A', s.prediction_a, s.prediction_b, s.correct_a, s.loss_a);
    side('B', s.prediction_b, s.prediction_a, s.correct_b, s.loss_b);
    // num_return_sequences: each run's other sequences, ranked, the words not in the label marked
    for (const [name, seqs] of [['A', s.sequences_a], ['B', s.sequences_b]] as const) {
      if (!seqs || seqs.length < 2) continue;
      const list = el('ol', 'sequences');
      for (const p of seqs) {
        const li = el('li');
        if (s.label !== undefined) appendDiff(li, p, s.label);
        else li.textContent = p;
        list.append(li);
      }
      field(`sequences ${name} (${seqs.length}, best first)`, list, `seqs-${name.toLowerCase()}`);
    }
    root.append(dl);
  }
}
