// What the view could not show and why (no tokenizer, a dataset that moved), below the table.
import { el } from '../../common/dom';

export class NotesPanel {
  readonly root = el('section', 'notes');

  render(notes: string[]): void {
    this.root.textContent = '';
    if (!notes.length) return;
    this.root.append(el('h2', undefined, 'Notes'));
    const ul = el('ul');
    for (const n of notes) ul.append(el('li', undefined, n));
    this.root.append(ul);
  }
}
