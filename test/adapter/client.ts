// The bundled adapter (dist/debugAdapter.js) behind a real DAP client, with a temp folder, for one test.
import fs from 'node:fs';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
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

/**
 * The launch sequence clients use: initialize, launch, and on `initialized` the configuration (breakpoints,
 * exception filters) then configurationDone. Returns the initialize response (the capabilities).
 */
export async function launch(
  dc: DebugClient,
  args: Record<string, unknown>,
  configure: () => Promise<unknown> = async () => undefined,
  init: Partial<DebugProtocol.InitializeRequestArguments> = {},
): Promise<DebugProtocol.InitializeResponse> {
  const initialized = dc.waitForEvent('initialized');
  const caps = await dc.initializeRequest({ adapterID: 'evalpred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', ...init });
  const launched = dc.launchRequest({ type: 'evalpred', request: 'launch', name: 'test', ...args } as DebugProtocol.LaunchRequestArguments);
  await initialized;
  await configure();
  await dc.configurationDoneRequest();
  await launched;
  return caps;
}
