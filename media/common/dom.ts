// The one DOM helper of the webviews: an element with a class and text. Text from the user's data only ever
// reaches the DOM through textContent (never innerHTML), so dataset text cannot create elements.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A button that does not submit anything. */
export function button(cls: string, text: string, onClick: (e: MouseEvent) => void): HTMLButtonElement {
  const b = el('button', cls, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** Enter and Space act as a click (header cells, menu items that are not buttons). */
export function onActivate(target: HTMLElement, go: () => void): void {
  target.addEventListener('click', go);
  target.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      go();
    }
  });
}
