// The table's columns (the fixed ones, then one per per-sample metric of the task) and what each cell of a
// row shows: token tags for token classification, the words of a generated or QA prediction that differ from
// the label highlighted, numbers in three decimals. Under num_return_sequences n a row holds a line per
// sequence in the prediction, correctness and metric cells, ranked best first (docs/trainer-semantics.md#num_return_sequences-in-the-views).
import type { ColumnId, Overview, RowView, SequenceView, SortKey } from '../../src/shared/protocol';
import { appendDiff } from '../common/diffText';
import { el } from '../common/dom';
import { cellNumber, correctMark, scoreTitle, sequenceLines } from '../format';
import type { RowEl } from './virtualTable';

export interface Column {
  id: ColumnId;
  title: string;
  /** Header cells with a key sort the table on click (the sort select offers the same for the fixed ones). */
  sortKey?: SortKey;
  /** Its track in the CSS grid. */
  width: string;
  /** The cell class (`c0`, `c1`, ...: the styles and tests address cells by it). */
  cls: string;
  /** No row has a value here (Overview.emptyColumns): hidden unless the user shows it in the Columns menu. */
  empty?: boolean;
  /** The header's tooltip: what the cells hold when it is not plain from the title. */
  hint?: string;
}

const TEXT_TASKS = ['question-answering', 'seq2seq-lm', 'causal-lm'];

/** The columns for a run: the fixed seven, then its per-sample metrics (none before the overview arrives). */
export function columnsFor(o: Overview | undefined): Column[] {
  const wide = !!o && TEXT_TASKS.includes(o.task);
  const fixed: Omit<Column, 'cls'>[] = [
    { id: 'index', title: '#', sortKey: 'index', width: '80px' },
    { id: 'text', title: 'Text', width: wide ? 'minmax(160px, 1fr)' : 'minmax(200px, 1fr)' },
    // Generated and extracted text is the row's point: the prediction gets the largest share of the width.
    { id: 'prediction', title: 'Prediction', width: wide ? 'minmax(180px, 1.5fr)' : '150px' },
    { id: 'label', title: 'Label', width: wide ? 'minmax(140px, 1fr)' : '150px' },
    { id: 'correct', title: '', width: '28px' },
    { id: 'confidence', title: 'Confidence', sortKey: 'confidence', width: '100px' },
    { id: 'loss', title: 'Loss', sortKey: 'loss', width: '80px' },
  ];
  const scores = (o?.scoreColumns ?? []).map((name): Omit<Column, 'cls'> => ({ id: `score:${name}`, title: scoreTitle(name), sortKey: `score:${name}`, width: '110px' }));
  const empty = new Set(o?.emptyColumns ?? []);
  const n = o?.sequencesPerSample;
  const hint = (c: Omit<Column, 'cls'>): string | undefined => {
    if (!n) return undefined;
    if (c.id === 'prediction') return `the ${n} sequences generate() returned for the sample (num_return_sequences), best first`;
    if (c.id === 'correct' || c.id.startsWith('score:')) return `a value per sequence, each against the sample's label; sorting, "Wrong only" and export's single value use #1, the best`;
    return undefined;
  };
  return [...fixed, ...scores].map((c, k) => {
    const h = hint(c);
    return { ...c, cls: `c${k}`, ...(empty.has(c.id) ? { empty: true } : {}), ...(h ? { hint: h } : {}) };
  });
}

/** What the Columns menu calls a column (the correctness column has no header text). */
export function columnLabel(c: Column): string {
  return c.id === 'correct' ? '✓ / ✗' : c.title;
}

export function fillRow(r: RowEl<RowView>, row: RowView | null, overview: Overview | undefined): void {
  const [ci, ct, cp, cl, cc, cconf, closs, ...scores] = r.cells;
  r.root.classList.toggle('wrong', row?.correct === false);
  r.root.classList.toggle('loading', !row);
  if (!row) {
    ci.textContent = String(r.pos);
    for (const c of [ct, cp, cl, cc, cconf, closs, ...scores]) c.textContent = '';
    ct.textContent = '…';
    return;
  }
  ci.textContent = String(row.index);
  ct.textContent = '';
  if (row.tokens && overview?.task === 'token-classification') {
    for (const t of row.tokens) {
      const s = el('span', `tok tag-${t.predId % 8}${t.pred === 'O' ? ' tag-o' : ''}${t.gold !== undefined && t.gold !== t.pred ? ' tok-wrong' : ''}`, t.token);
      s.title = t.gold !== undefined ? `predicted ${t.pred}, gold ${t.gold}` : `predicted ${t.pred}`;
      ct.append(s, ' ');
    }
  } else ct.textContent = row.text;
  ct.title = row.text;
  cl.textContent = row.label ?? '';
  cl.title = row.label ?? '';
  cconf.textContent = cellNumber(row.confidence);
  closs.textContent = cellNumber(row.loss);
  const text = !!overview && TEXT_TASKS.includes(overview.task);
  for (const c of [cp, cc, ...scores]) c.classList.toggle('lines', !!row.sequences);
  if (row.sequences) {
    fillSequences(row.sequences, row.label, text, cp, cc, scores);
    return;
  }
  cp.textContent = '';
  appendPrediction(cp, row, row.label, text);
  cp.title = row.prediction;
  const mark = correctMark(row.correct);
  cc.textContent = mark.text;
  cc.setAttribute('aria-label', mark.label);
  scores.forEach((c, j) => {
    const v = row.scores?.[j];
    c.textContent = v === undefined || Number.isNaN(v) ? '' : cellNumber(v);
  });
}

/**
 * A prediction's text: the words that differ from the label marked; a decoder-only generation shows its new
 * tokens after "…" (its row starts with the prompt, which the Text column shows).
 */
function appendPrediction(cell: HTMLElement, s: { prediction: string; continuation?: string }, label: string | undefined, text: boolean): void {
  if (s.continuation !== undefined) {
    const prompt = el('span', 'prompt', '… ');
    prompt.title = 'the prompt: the generated row starts with it (see Text)';
    cell.append(prompt, s.continuation || el('span', 'empty', '(no new tokens)'));
  } else if (text && label !== undefined) appendDiff(cell, s.prediction, label);
  else cell.append(s.prediction);
}

/** num_return_sequences: a line per sequence (ranked) in the prediction, correctness and metric cells. */
function fillSequences(seqs: SequenceView[], label: string | undefined, text: boolean, cp: HTMLDivElement, cc: HTMLDivElement, scores: HTMLDivElement[]): void {
  const lines = sequenceLines(seqs.length);
  // More sequences than lines: the last line says how many more the detail shows.
  const shown = lines < seqs.length ? lines - 1 : lines;
  for (const c of [cp, cc, ...scores]) c.textContent = '';
  cp.title = seqs.map((s, j) => `#${j + 1} ${s.prediction}`).join('\n');
  cc.removeAttribute('aria-label');
  for (let j = 0; j < shown; j++) {
    const s = seqs[j];
    const line = el('div', `seq${s.correct === false ? ' wrong' : ''}`);
    line.append(el('span', 'rank', String(j + 1)));
    appendPrediction(line, s, label, text);
    cp.append(line);
    const mark = correctMark(s.correct);
    const m = el('div', `seq${s.correct === false ? ' wrong' : ''}`, mark.text);
    if (mark.label) m.setAttribute('aria-label', `#${j + 1} ${mark.label}`);
    cc.append(m);
    scores.forEach((c, k) => {
      const v = s.scores?.[k];
      c.append(el('div', 'seq', v === undefined || Number.isNaN(v) ? '' : cellNumber(v)));
    });
  }
  if (shown < seqs.length) cp.append(el('div', 'seq more', `+${seqs.length - shown} more: open the row`));
}
