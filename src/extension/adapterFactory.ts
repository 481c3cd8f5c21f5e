// Where the `evalpred` debug adapter runs: in the extension host (DebugAdapterInlineImplementation, quick to
// start, handy when debugging the extension) or as its own Node process running dist/debugAdapter.js (the
// default: a crash in native code or a runaway metric cannot take the extension host down). Same session
// class either way (mock-debug's "one adapter, every run mode").
import path from 'node:path';
import * as vscode from 'vscode';
import type { LoggingDebugSession } from '@vscode/debugadapter';
import { core } from './core';
import { log } from './log';
import { setting } from './settings';

/** The session class `src/debug/session.ts` exports (found by type, so a rename there does not break us). */
function sessionClass(): new () => LoggingDebugSession {
  // Loaded when an inline adapter starts, not on activation (the session pulls in the data readers, the
  // loop and the runners: docs/packaging.md).
  const { debugSession, LoggingDebugSession: Base } = core();
  const C = Object.values(debugSession as Record<string, unknown>).find(
    (v): v is new () => LoggingDebugSession => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Base,
  );
  if (!C) throw new Error('src/debug/session.ts exports no LoggingDebugSession subclass');
  return C;
}

export class EvalpredAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly extensionPath: string) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    if (setting('inlineAdapter', session.workspaceFolder)) {
      log().info('starting the evalpred debug adapter inside the extension host (evalpred.inlineAdapter)');
      return new vscode.DebugAdapterInlineImplementation(new (sessionClass())() as unknown as vscode.DebugAdapter);
    }
    const program = path.join(this.extensionPath, 'dist', 'debugAdapter.js');
    // The extension host's own Node (in desktop VS Code an Electron binary that acts as Node with this env).
    const cwd = session.workspaceFolder?.uri.fsPath;
    log().info(`starting the evalpred debug adapter: ${process.execPath} ${program}`);
    return new vscode.DebugAdapterExecutable(process.execPath, [program], { env: { ELECTRON_RUN_AS_NODE: '1' }, cwd });
  }
}
