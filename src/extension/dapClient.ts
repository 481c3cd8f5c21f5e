// Typed custom requests to an evalpred debug session: the name picks the argument and response types
// from src/shared/dapProtocol.ts, so the extension never sends an untyped string literal.
import type * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapRequestName, DapRequestTypes } from '../shared/dapProtocol';

type ArgsOf<R extends DapRequestName> = DapRequestTypes[R]['args'] extends undefined ? [] : undefined extends DapRequestTypes[R]['args'] ? [args?: DapRequestTypes[R]['args']] : [args: DapRequestTypes[R]['args']];

export async function dapRequest<R extends DapRequestName>(session: vscode.DebugSession, name: R, ...args: ArgsOf<R>): Promise<DapRequestTypes[R]['body']> {
  return (await session.customRequest(name, args[0])) as DapRequestTypes[R]['body'];
}

/** DAP `cancel` of a progress (a standard request; VS Code offers no typed call for it). */
export async function cancelProgress(session: vscode.DebugSession, progressId: string): Promise<void> {
  const args: DebugProtocol.CancelArguments = { progressId };
  await session.customRequest('cancel', args);
}
