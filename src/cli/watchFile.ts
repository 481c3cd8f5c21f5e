// `--watch`: calls back when the user saves the metric file or a module it imports from its own files.
// Watching a file itself would follow its inode, which an editor that saves by writing a new file and renaming
// it over the old one (vim, Emacs, JetBrains' safe write) replaces at the first save: every later save would go
// unseen. So each file's folder is watched, by the file's name.
import fs from 'node:fs';
import path from 'node:path';

export class SourceWatch {
  private readonly folders = new Map<string, { watcher: fs.FSWatcher; names: Set<string> }>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `onChange` runs once a burst of changes has settled (editors write in several steps). */
  constructor(
    private readonly onChange: () => void,
    private readonly settleMs = 80,
  ) {}

  /** Watch exactly these files from now on (the metric's sources change as its imports do). */
  watch(files: string[]): void {
    if (this.closed) return; // a run that ends after Ctrl+C must not watch again
    const wanted = new Map<string, Set<string>>();
    for (const f of files) {
      const abs = path.resolve(f);
      const dir = path.dirname(abs);
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(path.basename(abs));
    }
    for (const [dir, entry] of this.folders) {
      if (!wanted.has(dir)) {
        entry.watcher.close();
        this.folders.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      const entry = this.folders.get(dir);
      if (entry) {
        entry.names.clear();
        names.forEach((n) => entry.names.add(n));
        continue;
      }
      try {
        const watcher = fs.watch(dir, (_event, changed) => {
          // Some platforms do not say which file changed: then any change in the folder counts.
          if (changed !== null && !names.has(changed.toString())) return;
          clearTimeout(this.timer);
          this.timer = setTimeout(this.onChange, this.settleMs);
        });
        this.folders.set(dir, { watcher, names });
      } catch {
        // A folder that went away: its files are watched again once a run names them.
      }
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const { watcher } of this.folders.values()) watcher.close();
    this.folders.clear();
  }
}
