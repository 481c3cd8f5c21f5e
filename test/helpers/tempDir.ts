// The one way tests make a scratch folder: a fresh `evalpred-*` folder under the OS temp dir. Tests remove
// what they made (fs.rmSync(dir, { recursive: true, force: true })) in a finally or an after hook.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'evalpred-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
