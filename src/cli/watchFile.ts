// `--watch`: calls back when the user saves a file. Watching the file itself would follow its inode, which an
// editor that saves by writing a new file and renaming it over the old one (vim, Emacs, JetBrains' safe write)
// replaces at the first save: every later save would go unseen. So the folder is watched, by the file's name.
import fs from 'node:fs';
import path from 'node:path';

/** Calls `onChange` once a burst of changes to `file` has settled (editors write in several steps). */
export function watchFile(file: string, onChange: () => void, settleMs = 80): fs.FSWatcher {
  const abs = path.resolve(file);
  const name = path.basename(abs);
  let timer: NodeJS.Timeout | undefined;
  return fs.watch(path.dirname(abs), (_event, changed) => {
    // Some platforms do not say which file changed: then any change in the folder counts.
    if (changed !== null && changed.toString() !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, settleMs);
  });
}
