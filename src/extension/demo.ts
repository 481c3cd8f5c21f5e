// EvalPred: Run the Demo in This Workspace (the Get Started walkthrough's first step): writes the demo model,
// dataset and metric files into `evalpred-demo/` of the workspace folder (never over a user's file:
// src/demo/writeFiles.ts), opens its metrics.py and starts a debug session that pauses at compute_metrics.
import path from 'node:path';
import * as vscode from 'vscode';
import { core } from './core';
import { log } from './log';
import { showError } from './rerun';

/** The folder the demo writes into, inside the workspace folder. */
export const DEMO_FOLDER = 'evalpred-demo';

export async function runDemo(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') {
    const pick = await vscode.window.showInformationMessage('EvalPred: the demo is written into a workspace folder. Open a folder first.', 'Open Folder…');
    if (pick) await vscode.commands.executeCommand('workbench.action.files.openFolder');
    return;
  }
  const dir = path.join(folder.uri.fsPath, DEMO_FOLDER);
  let files: { metricsPy: string };
  try {
    files = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `EvalPred: building the demo model and dataset in ${DEMO_FOLDER}/` }, async () =>
      core().writeDemoWorkspace(dir),
    );
  } catch (e) {
    showError('EvalPred: the demo was not written', e);
    return;
  }
  log().info(`demo written to ${dir}`);
  await vscode.window.showTextDocument(vscode.Uri.file(files.metricsPy), { preview: false });
  const started = await vscode.debug.startDebugging(folder, core().demoLaunchConfig(dir));
  if (!started) log().warn('the demo debug session did not start');
}
