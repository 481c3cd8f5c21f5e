// File access the runtime needs, injected (as mock-debug's runtime takes its file accessor) so that a
// host with another file system can drive it; the default reads the local disk.
import fs from 'node:fs';

export interface RuntimeIO {
  readText(file: string): string;
  exists(p: string): boolean;
  isDirectory(p: string): boolean;
}

export const localIO: RuntimeIO = {
  readText: (f) => fs.readFileSync(f, 'utf8'),
  exists: (p) => fs.existsSync(p),
  isDirectory: (p) => {
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
};
