// The table's columns (the fixed ones, then one per per-sample metric of the task) and what each cell of a
// row shows: token tags for token classification, the words of a generated or QA prediction that differ from
// the label highlighted, numbers in three decimals.
import type { ColumnId, Overview, RowView, SortKey } from '../../src/shared/protocol';
import { appendDiff } from '../common/diffText';
import { el } from '../common/dom';
import { cellNumber, correctMark, scoreTitle } from '../format';
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
  return [...fixed, ...scores].map((c, k) => ({ ...c, cls: `c${k}`, ...(empty.has(c.id) ? { empty: true } : {}) }));
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
  cp.textContent = '';
  if (overview && TEXT_TASKS.includes(overview.task) && row.label !== undefined) appendDiff(cp, row.prediction, row.label);
  else cp.textContent = row.prediction;
  cp.title = row.prediction;
  cl.textContent = row.label ?? '';
  cl.title = row.label ?? '';
  const mark = correctMark(row.correct);
  cc.textContent = mark.text;
  cc.setAttribute('aria-label', mark.label);
  cconf.textContent = cellNumber(row.confidence);
  closs.textContent = cellNumber(row.loss);
  scores.forEach((c, j) => {
    const v = row.scores?.[j];
    c.textContent = v === undefined || Number.isNaN(v) ? '' : cellNumber(v);
  });
}
