// Lint findings above the table (warnings and notes, with the fix and the metric-file line), and errors from
// the host.
import type { LintView } from '../../../src/shared/protocol';
import { el } from '../../common/dom';

export class LintsPanel {
  readonly root = el('section', 'lints');

  constructor() {
    this.root.setAttribute('aria-label', 'Warnings');
  }

  render(lints: LintView[]): void {
    this.root.textContent = '';
    for (const l of lints) {
      const box = el('div', `lint ${l.severity}`);
      box.setAttribute('role', l.severity === 'warning' ? 'alert' : 'note');
      const head = el('div', 'lint-message');
      head.append(el('span', 'lint-icon', l.severity === 'warning' ? '⚠' : 'ℹ'), el('span', undefined, l.message));
      if (l.line !== undefined) head.append(el('span', 'lint-line', ` (metric file, line ${l.line})`));
      const fix = el('div', 'lint-fix');
      fix.append(el('strong', undefined, 'Fix: '), el('span', undefined, l.fix));
      box.append(head, fix);
      box.dataset.lint = l.id;
      this.root.append(box);
    }
  }

  /** An error from the host, on top of the lints. */
  error(message: string): void {
    const box = el('div', 'lint error');
    box.setAttribute('role', 'alert');
    box.textContent = message;
    this.root.prepend(box);
  }
}
