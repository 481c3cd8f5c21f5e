// A text with the words that are not in another text highlighted (media/common/wordDiff.ts), built with
// textContent only.
import { el } from './dom';
import { words, diffWords } from './wordDiff';

export function appendDiff(parent: HTMLElement, text: string, other: string, cls = 'diff'): void {
  const ws = words(text);
  const flags = diffWords(ws, words(other));
  ws.forEach((w, k) => {
    if (k) parent.append(' ');
    if (flags[k]) parent.append(el('mark', cls, w));
    else parent.append(w);
  });
}
