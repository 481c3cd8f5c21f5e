// The bundled adapter (dist/debugAdapter.js) behind a real DAP client, with a temp folder, for one test.
import fs from 'node:fs';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { distFile } from '../../src/core/paths';
import { tempDir } from '../fixtures/workspace';

export async function withAdapter(fn: (dc: DebugClient, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const dc = new DebugClient('node', distFile('debugAdapter.js'), 'evalpred', {}, !!process.env.EVALPRED_ADAPTER_STDERR);
  dc.defaultTimeout = 20000;
  await dc.start();
  // DebugClient's pipes do not hold node's event loop open while a test awaits only adapter events.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    await fn(dc, dir);
  } finally {
    // An adapter that already exited (disconnect, crash) has nothing to stop; a live one gets 3 s.
    const proc = (dc as unknown as { _adapterProcess?: { exitCode: number | null } })._adapterProcess;
    if (proc?.exitCode === null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([dc.stop().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer); // leave no timer behind to hold the test process open
    }
    clearInterval(keepAlive);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
