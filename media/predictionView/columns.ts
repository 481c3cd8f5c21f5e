// The table's columns and what each cell of a row shows: token tags for token classification, the words of
// a generated or QA prediction that differ from the label highlighted, numbers in three decimals.
import type { Overview, RowView, SortKey } from '../../src/shared/protocol';
import { appendDiff } from '../common/diffText';
import { el } from '../common/dom';
import { cellNumber, correctMark } from '../format';
import type { RowEl } from './virtualTable';

export interface Column {
  title: string;
  /** Header cells with a key sort the table on click (the sort select offers the same). */
  sortKey?: SortKey;
}

export const COLUMNS: Column[] = [
  { title: '#', sortKey: 'index' },
  { title: 'Text' },
  { title: 'Prediction' },
  { title: 'Label' },
  { title: '' },
  { title: 'Confidence', sortKey: 'confidence' },
  { title: 'Loss', sortKey: 'loss' },
];

export const CELL_CLASSES = COLUMNS.map((_, k) => `c${k}`);

const TEXT_TASKS = ['question-answering', 'seq2seq-lm', 'causal-lm'];

export function fillRow(r: RowEl<RowView>, row: RowView | null, overview: Overview | undefined): void {
  const [ci, ct, cp, cl, cc, cconf, closs] = r.cells;
  r.root.classList.toggle('wrong', row?.correct === false);
  r.root.classList.toggle('loading', !row);
  if (!row) {
    ci.textContent = String(r.pos);
    for (const c of [ct, cp, cl, cc, cconf, closs]) c.textContent = '';
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
}
