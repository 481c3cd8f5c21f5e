// One sample in full: its fields (the prediction and label with their differing words marked), the
// token-level next-token table of a teacher-forced generative run, and the raw slices of every per-sample
// array (logits, ids, labels).
import { formatCompact } from '../../../src/shared/format';
import type { RowDetail, RowView, TaskKind } from '../../../src/shared/protocol';
import { appendDiff } from '../../common/diffText';
import { el } from '../../common/dom';
import { correctMark, rawValuesText, scoreTitle } from '../../format';

export class DetailPanel {
  readonly root = el('section', 'detail panel');

  constructor(private readonly onClose: () => void) {
    this.root.hidden = true;
    this.root.setAttribute('aria-label', 'Sample detail');
  }

  close(): void {
    this.root.hidden = true;
  }

  /** `scoreNames`: Overview.scoreColumns, the names of each sequence's scores. */
  render(d: RowDetail, task: TaskKind | undefined, scoreNames: readonly string[] = []): void {
    const root = this.root;
    root.textContent = '';
    root.hidden = false;
    const r = d.row;
    const head = el('div', 'detail-head');
    head.append(el('h2', undefined, `Sample ${r.index}`));
    const close = el('button', 'close', 'Close');
    close.type = 'button';
    close.addEventListener('click', () => {
      this.close();
      this.onClose();
    });
    head.append(close);
    root.append(head);
    const dl = el('dl', 'detail-fields');
    const field = (k: string, v: string | HTMLElement) => {
      const dd = el('dd');
      dd.append(v);
      dl.append(el('dt', undefined, k), dd);
    };
    field('text', r.text);
    if (r.sequences) field(`predictions (${r.sequences.length}, best first)`, sequenceList(r.sequences, r.label, scoreNames));
    else {
      const pred = el('span');
      if (r.label !== undefined) appendDiff(pred, r.prediction, r.label);
      else pred.textContent = r.prediction;
      field('prediction', pred);
    }
    if (r.continuation !== undefined && !r.sequences) field('new tokens', r.continuation);
    if (r.label !== undefined) {
      const lab = el('span');
      appendDiff(lab, r.label, r.prediction);
      field('label', lab);
    }
    if (r.correct !== undefined) field(r.sequences ? 'correct (#1)' : 'correct', r.correct ? 'yes' : 'no');
    if (r.confidence !== undefined) field('confidence', formatCompact(r.confidence));
    if (r.loss !== undefined) field('loss', formatCompact(r.loss));
    root.append(dl);
    if (r.tokens && task !== 'token-classification') root.append(nextTokens(r.tokens, task === 'causal-lm'));
    for (const a of d.arrays) {
      const box = el('div', 'raw');
      box.append(el('div', 'raw-name', `${a.path}  ${a.dtype}[${a.shape.join(', ')}]`));
      box.append(el('pre', 'raw-values', rawValuesText(a)));
      root.append(box);
    }
  }
}

/**
 * num_return_sequences: each sequence ranked, its words that differ from the label marked, its new tokens (a
 * decoder-only row starts with the prompt) and its own correctness and metric values.
 */
function sequenceList(seqs: NonNullable<RowView['sequences']>, label: string | undefined, scoreNames: readonly string[]): HTMLElement {
  const list = el('ol', 'sequences');
  for (const s of seqs) {
    const li = el('li', s.correct === false ? 'wrong' : undefined);
    const text = el('span', 'seq-text');
    if (label !== undefined) appendDiff(text, s.prediction, label);
    else text.textContent = s.prediction;
    li.append(text);
    const facts: string[] = [];
    const mark = correctMark(s.correct);
    if (mark.label) facts.push(mark.text);
    scoreNames.forEach((n, k) => {
      const v = s.scores?.[k];
      if (v !== undefined && !Number.isNaN(v)) facts.push(`${scoreTitle(n)} ${formatCompact(v)}`);
    });
    if (facts.length) li.append(el('span', 'seq-facts', `  ${facts.join(' · ')}`));
    if (s.continuation !== undefined) li.append(el('div', 'seq-new', `new tokens: ${s.continuation}`));
    list.append(li);
  }
  return list;
}

/** Generative teacher-forced rows: each actual token beside the model's prediction at its position. */
function nextTokens(tokens: NonNullable<RowView['tokens']>, causal: boolean): HTMLElement {
  const box = el('div', 'next-tokens');
  box.append(el('h3', undefined, causal ? 'Next-token predictions (logits at t predict the token at t + 1)' : 'Token predictions (teacher forcing)'));
  const table = el('table');
  const head = el('tr');
  head.append(el('th', undefined, 'position'), el('th', undefined, causal ? 'actual next token' : 'actual token'), el('th', undefined, 'predicted'));
  table.append(head);
  tokens.forEach((t, k) => {
    const tr = el('tr', t.gold !== undefined && t.gold !== t.pred ? 'tok-wrong-row' : undefined);
    tr.append(el('td', undefined, String(k)), el('td', undefined, t.token), el('td', undefined, t.pred));
    table.append(tr);
  });
  box.append(table);
  return box;
}
